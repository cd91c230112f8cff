import path from "node:path";
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, type LogEvent } from "kysely";
import pg from "pg";
import { ConfigError } from "../config.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import type { Database } from "./schema.ts";

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** "postgres" for a server, "pglite" for the embedded database. */
  kind: "postgres" | "pglite";
  /** The connection string, when a Postgres server is open. */
  url?: string;
  /** The embedded database itself, when that is what is open. */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Postgres connection string; when absent the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; absent means in memory. */
  pgliteDir?: string | undefined;
  /** A dump (from PGlite's dumpDataDir) to start the embedded database from. */
  pgliteDump?: Blob | undefined;
  /** Called for every statement Kysely runs (benchmarks count statements with it). */
  onQuery?: (event: LogEvent) => void;
  /** Connections in the pool for a Postgres server. */
  poolSize?: number;
}

/**
 * The database the configuration names: Postgres at DATABASE_URL, else PGlite in DATA_DIR/pglite,
 * which this process then holds alone (`lockDataDir`) until the handle is closed. Several
 * processes may share one Postgres server; only one may open an embedded database.
 */
export async function openConfiguredDatabase(config: { databaseUrl: string | undefined; dataDir: string }): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl });
  await mkdir(config.dataDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`DATA_DIR: cannot create ${config.dataDir} (${error.code ?? error.message})`);
  });
  const lock = lockDataDir(config.dataDir);
  try {
    const handle = await openDatabase({ pgliteDir: path.join(config.dataDir, "pglite") });
    return {
      ...handle,
      close: async () => {
        try {
          await handle.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Opens Postgres when a URL is given, else embedded PGlite; both speak the same SQL. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const log = options.onQuery;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
    return { db, kind: "postgres", url: options.databaseUrl, close: () => db.destroy() };
  }
  if (options.pgliteDir) await mkdir(path.dirname(options.pgliteDir), { recursive: true });
  const pglite = await PGlite.create({
    ...(options.pgliteDir ? { dataDir: options.pgliteDir } : {}),
    ...(options.pgliteDump ? { loadDataDir: options.pgliteDump } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), ...(log ? { log } : {}) });
  return {
    db,
    kind: "pglite",
    pglite,
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
