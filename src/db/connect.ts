import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, type LogEvent } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
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
  /** How the Postgres server's connection pool is used now (the embedded database has none). */
  poolUse?: () => { total: number; idle: number; waiting: number; max: number };
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
  /** Where a Postgres connection that breaks is reported; unreported when absent. */
  logger?: Logger;
}

/**
 * How long a statement waits for a Postgres connection before it fails, so that a command
 * during an outage is answered at once rather than when the operating system gives up on a
 * server that does not answer (minutes). A refused connection fails sooner still.
 */
export const connectTimeoutMs = 5000;

/**
 * The database the configuration names: Postgres at DATABASE_URL, else PGlite in DATA_DIR/pglite,
 * which this process then holds alone (`lockDataDir`) until the handle is closed. Several
 * processes may share one Postgres server; only one may open an embedded database.
 */
export async function openConfiguredDatabase(config: { databaseUrl: string | undefined; dataDir: string }, logger?: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl, ...(logger ? { logger } : {}) });
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
    const pool = connectionPool(options.databaseUrl, options.poolSize ?? 10, options.logger);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
    const poolUse = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max });
    return { db, kind: "postgres", url: options.databaseUrl, poolUse, close: () => db.destroy() };
  }
  if (options.pgliteDir) await mkdir(path.dirname(options.pgliteDir), { recursive: true });
  // Loaded only here: a process on a Postgres server never reads the embedded database's code.
  const { PGlite } = await import("@electric-sql/pglite");
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

/**
 * A pg pool that survives its connections breaking (a server restarted or failed over, a
 * backend terminated, an idle connection reaped). pg reports a connection that breaks as an
 * `error` event, and an event nobody listens to ends the process. An idle connection's error
 * reaches the pool, which drops it; one checked out reports on the client, and its statement
 * fails too, after which the pool drops it when it comes back. Either way the next statement
 * gets a new connection.
 */
function connectionPool(connectionString: string, max: number, logger: Logger | undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
  const report = (error: Error) => logger?.warn({ reason: error.message, code: (error as { code?: unknown }).code }, "a database connection broke; it is dropped and the next statement opens a new one");
  pool.on("error", report);
  const endedByServer = new WeakSet<pg.PoolClient>();
  pool.on("connect", (client) => {
    // A client reports its error on itself while it is checked out; the statement it is running fails too, and says why.
    client.on("error", () => undefined);
    // A FATAL answer ends the session (a terminated backend, a shutdown), but pg gives it to the statement it
    // answers and the pool takes the connection back as if it were fine, until its socket closes.
    (client as unknown as pg.Client).connection.on("errorMessage", (message: { severity?: string }) => {
      if (message.severity === "FATAL" || message.severity === "PANIC") endedByServer.add(client);
    });
  });
  handOutOnlyLiveConnections(pool, (client) => !endedByServer.has(client) && (client as { _queryable?: boolean })._queryable !== false);
  return pool;
}

/**
 * A connection the server ended can still be handed out: one whose statement was answered
 * with a FATAL goes back to the pool, and one that was idle may have the server's goodbye
 * waiting unread in its socket while the process was busy. One turn of the event loop reads
 * that; a connection that turns out ended is dropped and another one taken, so the next command
 * after the server dropped connections does not fail for it. (pg-pool itself reads `_queryable`.)
 */
function handOutOnlyLiveConnections(pool: pg.Pool, isLive: (client: pg.PoolClient) => boolean): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const live = async (): Promise<pg.PoolClient> => {
    for (let tries = 1; ; tries += 1) {
      const client = await connect();
      await new Promise((resolve) => setImmediate(resolve));
      if (isLive(client) || tries > pool.options.max) return client;
      client.release(new Error("the server ended this connection"));
    }
  };
  pool.connect = ((callback?: unknown) => (callback === undefined ? live() : (connect as (callback: unknown) => void)(callback))) as typeof pool.connect;
}
