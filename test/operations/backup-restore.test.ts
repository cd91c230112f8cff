import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdgebot } from "../support/edgebot-process.ts";
import { PostgresServer } from "../support/postgres-server.ts";

const run = promisify(execFile);

/** The shell on `databaseUrl` and `gitRoot`, fed `lines`; resolves with what it printed once it has exited. */
async function shell(databaseUrl: string, gitRoot: string, lines: string[]): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-backup-shell-"));
  try {
    const edgebot = startEdgebot({ DATABASE_URL: databaseUrl, GIT_ROOT: gitRoot, DATA_DIR: dataDir, EDGEBOT_USER: "ana", GIT_HTTP_PORT: "0" }, { input: `${lines.join("\n")}\n` });
    expect(await edgebot.exited, edgebot.stderr()).toBe(0);
    return edgebot.stdout();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return server.url(name);
}

describe("backup and restore, as docs/OPERATIONS.md says to do them", () => {
  let server: PostgresServer;
  let scratch: string;

  beforeAll(async () => {
    server = await PostgresServer.start();
    scratch = await mkdtemp(path.join(tmpdir(), "edgebot-backup-"));
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("pg_dump, then a copy of GIT_ROOT; restored elsewhere, edgebot starts on them with every application, its history and domains", { timeout: 180_000 }, async () => {
    const live = { database: await createDatabase(server, "edgebot_live"), gitRoot: path.join(scratch, "live-repos") };
    await shell(live.database, live.gitRoot, [
      "org create acme",
      "app create www.acme.example --org acme --name www",
      "env create acme/www staging",
      "domain add acme/www staging staging.acme.example",
    ]);

    // The backup: the database first, then the repositories (a repository newer than the dump is set aside at start; one older would lose commits).
    const dump = path.join(scratch, "edgebot.dump");
    await run("pg_dump", ["--format=custom", "--no-owner", `--file=${dump}`, live.database]);
    // Life goes on while the backup is taken: this application is in the repositories' copy, not in the dump.
    await shell(live.database, live.gitRoot, ["app create blog.acme.example --org acme --name blog"]);
    const copiedRepos = path.join(scratch, "backup-repos");
    await cp(live.gitRoot, copiedRepos, { recursive: true, preserveTimestamps: true });

    // The restore: a new database from the dump, the copied repositories as its GIT_ROOT.
    const restored = { database: await createDatabase(server, "edgebot_restored"), gitRoot: path.join(scratch, "restored-repos") };
    await run("pg_restore", ["--no-owner", `--dbname=${restored.database}`, dump]);
    await cp(copiedRepos, restored.gitRoot, { recursive: true });
    const printed = await shell(restored.database, restored.gitRoot, ["app list", "env list acme/www", "domain list acme/www", "env log acme/www staging"]);
    expect(printed).toContain("Applications in your orgs (1)\n• acme/www · 2 environments · 2 domains");
    expect(printed).not.toContain("acme/blog");
    expect(printed).toContain("• staging (from production) · 1 domain · not live");
    expect(printed).toContain("• staging.acme.example · staging — pending");
    expect(printed).toMatch(/Recent commits of acme\/www staging\n• `[0-9a-f]{10}` Create www for www\.acme\.example — ana/);
    // The repository the dump knows nothing of was set aside at start, not served.
    const repositories = (await readdir(restored.gitRoot)).filter((name) => name.endsWith(".git"));
    expect(repositories).toHaveLength(1);
    expect(await readdir(path.join(restored.gitRoot, ".orphaned"))).toHaveLength(1);
    const [repository] = repositories;
    const fsck = await run("git", ["--git-dir", path.join(restored.gitRoot, repository!), "fsck", "--strict"]);
    expect(fsck.stderr).not.toMatch(/error|missing/i);
  });
});
