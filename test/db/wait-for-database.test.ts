import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logLines, startEdgebot } from "../support/edgebot-process.ts";
import { freePort, PostgresServer } from "../support/postgres-server.ts";
import { databaseUnreachableMessage } from "../../src/db/errors.ts";
import { until } from "../support/until.ts";

/** The lines on stderr that are not pino's JSON: what a person reads when edgebot stops. */
const plainLines = (stderr: string): string[] => stderr.split("\n").filter((line) => line !== "" && !line.startsWith("{"));

describe("the edgebot process when Postgres cannot be reached", { timeout: 60_000 }, () => {
  let server: PostgresServer;
  let dataDir: string;
  // The local shell: no Slack needed to see edgebot start, run a command and stop.
  const shellEnv = () => ({ DATA_DIR: dataDir, GIT_HTTP_PORT: "0", LOG_LEVEL: "info" });

  beforeAll(async () => {
    server = await PostgresServer.start();
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-wait-"));
  });

  afterAll(async () => {
    await server?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("tries again with backoff, logging each try, and after DATABASE_CONNECT_TIMEOUT_S exits 2 with one line naming DATABASE_URL", async () => {
    const closedPort = await freePort();
    const started = Date.now();
    const run = startEdgebot({ ...shellEnv(), DATABASE_URL: `postgres://edgebot:s3cret-pw@127.0.0.1:${closedPort}/edgebot`, DATABASE_CONNECT_TIMEOUT_S: "2" });
    expect(await run.exited).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);

    const tries = logLines(run.stderr()).filter((line) => line.msg === "database not reachable yet; trying again");
    expect(tries.map((line) => line.attempt)).toEqual(tries.map((_, index) => index + 1));
    expect(tries.length).toBeGreaterThanOrEqual(2);
    // 0.5 s, then doubling.
    expect(tries[0]!.retryInMs).toBe(500);
    expect(tries[1]!.retryInMs).toBe(1000);

    expect(plainLines(run.stderr())).toEqual([
      expect.stringMatching(new RegExp(`^edgebot: DATABASE_URL: could not reach Postgres at postgres://\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}/edgebot within DATABASE_CONNECT_TIMEOUT_S=2 \\(.*ECONNREFUSED.*\\)$`)),
    ]);
    expect(run.stderr()).not.toContain("s3cret-pw");
    expect(run.stderr()).not.toMatch(/\n\s+at /);
  });

  it("exits 2 at once, with one line, when the server refuses for good: the database does not exist", async () => {
    const run = startEdgebot({ ...shellEnv(), DATABASE_URL: server.url("no_such_database"), DATABASE_CONNECT_TIMEOUT_S: "30" });
    expect(await run.exited).toBe(2);
    expect(logLines(run.stderr()).filter((line) => line.msg === "database not reachable yet; trying again")).toEqual([]);
    expect(plainLines(run.stderr())).toEqual([expect.stringMatching(/^edgebot: DATABASE_URL: Postgres at postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/no_such_database refused edgebot: the database does not exist \(.*\)$/)]);
  });

  it("starts normally when the database comes up during the wait", async () => {
    await server.stop();
    const run = startEdgebot({ ...shellEnv(), DATABASE_URL: server.url(), DATABASE_CONNECT_TIMEOUT_S: "40" }, { input: "org create waited-for\n" });
    try {
      await until(() => logLines(run.stderr()).find((line) => line.msg === "database not reachable yet; trying again" && line.attempt === 2), { what: "a second try", timeoutMs: 30_000 });
      await server.start();
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(run.stdout()).toContain("Created org waited-for");
    expect(logLines(run.stderr()).some((line) => line.msg === "database reachable")).toBe(true);
  });

  it("in the shell, answers a command during an outage with the database message and goes on when the server is back", async () => {
    const run = startEdgebot({ ...shellEnv(), DATABASE_URL: server.url() }, { keepStdinOpen: true });
    const type = async (line: string, expected: string) => {
      run.child.stdin.write(`${line}\n`);
      await until(() => (run.stdout().includes(expected) ? true : undefined), { what: expected, timeoutMs: 30_000 });
    };
    try {
      await type("org create shell-before", "Created org shell-before");
      await server.stop();
      await type("org create shell-during", databaseUnreachableMessage);
      await server.start();
      await type("org create shell-after", "Created org shell-after");
      run.child.stdin.end();
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(run.stdout()).not.toContain("Created org shell-during");
  });
});
