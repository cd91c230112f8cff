import pg from "pg";

/**
 * The Postgres advisory locks that serialise git writes to one application's repository across
 * processes: the key is (`repositoryLockSpace`, application id). A transaction takes it for its
 * own length (`pg_advisory_xact_lock`, core/repository-locks.ts); work outside a transaction (a
 * push, maintenance) holds it on a connection of this pool for as long as it runs. Both kinds
 * are one lock: each waits for the other.
 */
export const repositoryLockSpace = 1_701_079_909; // "edge" in ASCII, as a 32-bit key

/** Holds repository locks on a pool of its own, so that work holding one never waits for a connection it holds. */
export class RepositoryLockPool {
  private readonly pool: pg.Pool;

  constructor(connectionString: string, max = 16) {
    this.pool = new pg.Pool({ connectionString, max, keepAlive: true });
    // A lock connection that breaks loses its lock with it; the next hold opens another.
    this.pool.on("error", () => undefined);
  }

  /** Runs `work` holding application `applicationId`'s repository lock, waiting for it first. */
  async hold<T>(applicationId: number, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("select pg_advisory_lock($1, $2)", [repositoryLockSpace, applicationId]);
      try {
        return await work();
      } finally {
        await client.query("select pg_advisory_unlock($1, $2)", [repositoryLockSpace, applicationId]).catch((error: Error) => (broken = error));
      }
    } finally {
      // A connection whose unlock failed is closed: closing it is what lets the lock go.
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
