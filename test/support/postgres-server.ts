import { execFile } from "node:child_process";
import { readdir, chown, mkdtemp, mkdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A Postgres server of the test's own, made from the machine's PostgreSQL binaries in a temp
 * directory: trust authentication, listening on 127.0.0.1 only at a free port, its unix socket
 * inside the directory. A test can stop it as a crash would (`stop()`, `-m immediate`) and
 * start it again on the same port. As root (here and in CI) the binaries run as the `postgres`
 * user, since initdb refuses root.
 */
export class PostgresServer {
  private running = false;

  private constructor(
    private readonly bindir: string,
    private readonly directory: string,
    readonly port: number,
  ) {}

  /** Makes a new cluster and starts it. */
  static async start(): Promise<PostgresServer> {
    const bindir = await postgresBindir();
    const directory = await mkdtemp(path.join(tmpdir(), "edgebot-postgres-"));
    const server = new PostgresServer(bindir, directory, await freePort());
    try {
      await mkdir(server.socketDirectory);
      if (runsAsRoot()) await chownToPostgres(directory);
      // No fsync: the server stops as a crash would, but the machine does not, and the OS keeps what was written.
      await server.pg("initdb", ["-D", server.dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** A connection string for `database` (default `postgres`) as the superuser. */
  url(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server (again) on its port and waits until it takes connections. */
  async start(): Promise<void> {
    const options = [`-c listen_addresses=127.0.0.1`, `-p ${this.port}`, `-c unix_socket_directories=${this.socketDirectory}`, `-c fsync=off`, `-c max_connections=50`].join(" ");
    await this.pg("pg_ctl", ["-D", this.dataDirectory, "-l", this.logFile, "-o", options, "-w", "-t", "60", "start"]).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n${await readFile(this.logFile, "utf8").catch(() => "")}`);
    });
    this.running = true;
  }

  /** Stops the server the way a crash or a failover does: `-m immediate`, no goodbye to clients. */
  async stop(mode: "immediate" | "fast" = "immediate"): Promise<void> {
    await this.pg("pg_ctl", ["-D", this.dataDirectory, "-m", mode, "-w", "stop"]);
    this.running = false;
  }

  /** Stops the server if it runs and removes its directory. */
  async destroy(): Promise<void> {
    if (this.running) await this.stop().catch(() => undefined);
    await rm(this.directory, { recursive: true, force: true });
  }

  private get dataDirectory(): string {
    return path.join(this.directory, "data");
  }

  private get socketDirectory(): string {
    return path.join(this.directory, "socket");
  }

  private get logFile(): string {
    return path.join(this.directory, "server.log");
  }

  private async pg(program: string, args: string[]): Promise<void> {
    const binary = path.join(this.bindir, program);
    const [command, commandArgs] = runsAsRoot() ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
    await run(command, commandArgs, { cwd: this.directory, timeout: 90_000 });
  }
}

const runsAsRoot = (): boolean => process.getuid?.() === 0;

/** `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin (Debian's server package without libpq-dev). */
async function postgresBindir(): Promise<string> {
  const configured = await run("pg_config", ["--bindir"]).then(
    ({ stdout }) => stdout.trim(),
    () => undefined,
  );
  if (configured && (await readdir(configured).catch(() => [] as string[])).includes("initdb")) return configured;
  const versions = (await readdir("/usr/lib/postgresql").catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error("no PostgreSQL server binaries: install postgresql (initdb and pg_ctl are needed)");
  return path.join("/usr/lib/postgresql", versions[0]!, "bin");
}

async function chownToPostgres(directory: string): Promise<void> {
  const { stdout: uid } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  for (const entry of [directory, ...(await readdir(directory)).map((name) => path.join(directory, name))]) await chown(entry, Number(uid), Number(gid));
}

/** A loopback port nothing listens on at this moment. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
