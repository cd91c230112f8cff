import { ConfigError, loadConfig } from "../config.ts";
import { openConfiguredDatabase } from "./connect.ts";
import { migrateToLatest } from "./migrate.ts";

// `npm run migrate`: brings the configured database to the newest schema and says what ran.
try {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length === 0 ? "database is up to date\n" : `applied ${applied.join(", ")}\n`);
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`edgebot: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}
