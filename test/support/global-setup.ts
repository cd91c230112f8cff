import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Postgres: the migrated template every test file copies. */
    templateDatabase: string;
    /** PGlite: a dump of a migrated database every test file loads. */
    pgliteDump: string;
  }
}

/** Migrates once per run; each test file then gets a fresh copy (see database.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const template = `edgebot_test_${Date.now()}_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${template}`);
    const handle = await openDatabase({ databaseUrl: withDatabase(serverUrl, template) });
    await migrateToLatest(handle.db);
    await handle.close();
    project.provide("templateDatabase", template);
    project.provide("pgliteDump", "");
    return async () => {
      await admin.query(`drop database if exists ${template} with (force)`);
      const leftovers = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${template}_%`]);
      for (const { datname } of leftovers.rows) await admin.query(`drop database if exists ${datname} with (force)`);
      await admin.end();
    };
  }
  const directory = await mkdtemp(path.join(tmpdir(), "edgebot-pglite-"));
  const handle = await openDatabase({});
  await migrateToLatest(handle.db);
  const dumpFile = path.join(directory, "migrated.tar.gz");
  const pglite = handle.pglite;
  if (!pglite) throw new Error("expected an embedded database");
  await writeFile(dumpFile, Buffer.from(await (await pglite.dumpDataDir("gzip")).arrayBuffer()));
  await handle.close();
  project.provide("templateDatabase", "");
  project.provide("pgliteDump", dumpFile);
  return () => rm(directory, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
