import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../src/db/migrate.ts";
import { PostgresServer } from "../support/postgres-server.ts";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

/** `npm run migrate` as a process of its own: how it ended and what it said. */
function migrate(databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/db/migrate-cli.ts"], { cwd: projectRoot, env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("several processes migrating one new database at once", () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await PostgresServer.start();
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it("run each migration once, one process at a time (Kysely's advisory lock), and all three succeed", { timeout: 120_000 }, async () => {
    const ran = await Promise.all([1, 2, 3].map(() => migrate(server.url())));
    expect(ran.map((outcome) => [outcome.code, outcome.stderr])).toEqual([
      [0, ""],
      [0, ""],
      [0, ""],
    ]);
    // One applied them all; the others, waiting on the lock, found nothing left to do.
    const said = ran.map((outcome) => outcome.stdout.trim()).sort();
    expect(said).toEqual([`applied ${Object.keys(migrations).join(", ")}`, "database is up to date", "database is up to date"]);

    const client = new pg.Client({ connectionString: server.url() });
    await client.connect();
    const { rows } = await client.query<{ name: string }>("select name from kysely_migration order by name");
    await client.end();
    expect(rows.map((row) => row.name)).toEqual(Object.keys(migrations));
  });
});
