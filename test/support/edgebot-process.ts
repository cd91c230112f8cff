import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import type { DatabaseHandle } from "../../src/db/connect.ts";
import { openTestDatabase } from "./database.ts";
import { until } from "./until.ts";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

/** `npm start`'s entry point running as a real process, its stderr collected as it comes. */
export interface EdgebotProcess {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Resolves with the HTTP port once edgebot logs that it is listening. */
  listening(timeoutMs?: number): Promise<number>;
}

/**
 * Starts `node --import tsx src/main.ts` (or, given `main`, `node <main>`: a production build's
 * entry point) with only PATH, HOME and `env` set, so nothing of the test runner's environment
 * leaks in. Standard input is closed unless `input` is given.
 */
export function startEdgebot(env: Record<string, string>, options: { input?: string; keepStdinOpen?: boolean; main?: string } = {}): EdgebotProcess {
  const child = spawn(process.execPath, options.main ? [options.main] : ["--import", "tsx", "src/main.ts"], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
  });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepStdinOpen) child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    // Generous: a process starting on a busy machine (tsx, then PGlite's WebAssembly) can take 20 s.
    listening: (timeoutMs = 45_000) =>
      until(
        () => {
          if (ended) throw new Error(`edgebot exited before listening:\n${stderr}`);
          const port = /"port":(\d+)[^\n]*edgebot listening/.exec(stderr)?.[1];
          return port === undefined ? undefined : Number(port);
        },
        { what: "edgebot to listen", timeoutMs, everyMs: 50 },
      ),
  };
}

/** The JSON lines pino wrote among `stderr`, parsed; any other line is left out. */
export function logLines(stderr: string): Array<Record<string, unknown> & { msg?: string; level?: number }> {
  return stderr.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/**
 * A DATA_DIR of the test's own for edgebot processes (removed afterwards) and, when the suite runs
 * on the Postgres server, a fresh database there: `env()` is the environment to start them with,
 * `extra` added to it.
 */
export function useEdgebotDataDir(name: string, extra: Record<string, string> = {}): { env: () => Record<string, string>; dataDir: () => string } {
  let dataDir: string | undefined;
  let serverDatabase: DatabaseHandle | undefined;
  let env: Record<string, string> | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), `edgebot-${name}-`));
    serverDatabase = process.env.TEST_DATABASE_URL ? await openTestDatabase() : undefined;
    env = { DATA_DIR: dataDir, EDGEBOT_USER: "ana", GIT_HTTP_PORT: "0", ...extra, ...(serverDatabase ? { DATABASE_URL: serverDatabase.url! } : {}) };
  });
  afterAll(async () => {
    await serverDatabase?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return {
    env: () => env ?? fail("useEdgebotDataDir: env() is ready in tests, not before"),
    dataDir: () => dataDir ?? fail("useEdgebotDataDir: dataDir() is ready in tests, not before"),
  };
}

function fail(problem: string): never {
  throw new Error(problem);
}
