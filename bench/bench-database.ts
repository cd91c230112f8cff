import pg from "pg";

/** The admin connection when DATABASE_URL is not set. */
export const defaultAdminUrl = "postgres://postgres@127.0.0.1:5432/postgres";

const loopbackHosts = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** A throwaway database the benchmark creates, fills and drops. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database next to the one `adminUrl` names. Only loopback servers are
 * accepted: the benchmark writes millions of rows and must never reach a shared server.
 */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const admin = new URL(adminUrl);
  if (admin.protocol !== "postgres:" && admin.protocol !== "postgresql:") {
    throw new Error(`DATABASE_URL must be a postgres:// URL, not ${admin.protocol}`);
  }
  if (!loopbackHosts.has(admin.hostname)) {
    throw new Error(`the benchmark only runs against a loopback Postgres (127.0.0.1, ::1 or localhost), not ${admin.hostname}`);
  }
  const name = `edgebot_bench_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${process.pid}`;
  await runAsAdmin(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await runAsAdmin(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function runAsAdmin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The Postgres server's version string, like "15.20 (Debian 15.20-0+deb12u1)". */
export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>("show server_version");
    return result.rows[0]?.server_version ?? "unknown";
  } finally {
    await client.end();
  }
}
