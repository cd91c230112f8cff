import { readFile } from "node:fs/promises";
import pg from "pg";
import { inject } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { withDatabase } from "./global-setup.ts";

/**
 * A fresh, migrated database for one test file: a copy of the run's template on the
 * Postgres server when TEST_DATABASE_URL is set, else an embedded PGlite loaded from a dump.
 */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const template = inject("templateDatabase");
    const name = `${template}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name} template ${template}`);
    await admin.end();
    const url = withDatabase(serverUrl, name);
    const handle = await openDatabase({ databaseUrl: url });
    return {
      ...handle,
      url,
      close: async () => {
        await handle.close();
        const cleanup = new pg.Client({ connectionString: serverUrl });
        await cleanup.connect();
        await dropWhenClosed(cleanup, name);
        await cleanup.end();
      },
    };
  }
  const dump = await readFile(inject("pgliteDump"));
  return openDatabase({ pgliteDump: new Blob([dump]) });
}

/**
 * Drops a test database once its connections are gone. The pool's `end()` resolves before each
 * client's goodbye has reached the server; forcing the drop at that moment kills a backend
 * whose client is still listening, and the client reports "terminating connection due to
 * administrator command" as an unhandled error. So: wait for them, and force only at the end.
 */
async function dropWhenClosed(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const { rows } = await admin.query("select count(*)::int as n from pg_stat_activity where datname = $1", [name]);
    if (rows[0].n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await admin.query(`drop database if exists ${name} with (force)`);
}
