import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/connect.ts";
import { openTestDatabase } from "../support/database.ts";
import { startEdgebot, useEdgebotDataDir } from "../support/edgebot-process.ts";

interface ShellRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm start`'s entry point as a subprocess with a script on stdin. */
async function runShell(script: string, env: Record<string, string>): Promise<ShellRun> {
  const edgebot = startEdgebot(env, { input: script });
  const code = await edgebot.exited;
  return { code, stdout: edgebot.stdout(), stderr: edgebot.stderr() };
}

describe("the local shell", () => {
  const edgebotHome = useEdgebotDataDir("shell");
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    // Against the Postgres server when the suite runs there; else the shell's own embedded database.
    dataDir = edgebotHome.dataDir();
    env = edgebotHome.env();
  });

  it("runs a script of commands as the local user, prints the replies and exits at end of input", async () => {
    const script = [
      "# set up a client",
      "org create acme --name \"Acme Corp\"",
      "/edge app create https://www.acme.example/shop --origin origin.acme.example",
      "env create www-acme-example staging --domain staging.acme.example",
      "app show acme/www-acme-example",
      "env delete www-acme-example staging",
      "frobnicate",
      "",
    ].join("\n");
    const run = await runShell(script, env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const replies = run.stdout.trim().split("\n\n");
    expect(replies).toEqual([
      "✓ Created org acme (Acme Corp). You are its owner. Next: `app create <hostname> --org acme`",
      [
        "✓ Created acme/www-acme-example: production serves www.acme.example, fetching from `origin.acme.example`.",
        "You gave a URL; its hostname www.acme.example is what was added.",
        "Next: `env create acme/www-acme-example staging` · `app show acme/www-acme-example`",
      ].join("\n"),
      "✓ Created acme/www-acme-example staging, branched from production.\nIt serves staging.acme.example.",
      expect.stringMatching(
        /^acme\/www-acme-example · origin `origin\.acme\.example` · your role: owner\nCreated .* UTC\nproduction · not live\n• www\.acme\.example — pending\nstaging \(from production\) · not live\n• staging\.acme\.example — pending$/,
      ),
      "! to delete acme/www-acme-example staging and its domains, add --confirm staging\nUsage: `env delete <app> <env> --confirm <env>`",
      "! frobnicate is not a command\nUsage: `help`",
    ]);

    // What the shell did is in the database and on disk.
    const database = await openDatabase(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { pgliteDir: path.join(dataDir, "pglite") });
    try {
      const rows = await database.db
        .selectFrom("domains as d")
        .innerJoin("environments as e", "e.id", "d.environment_id")
        .innerJoin("applications as a", "a.id", "e.application_id")
        .select(["a.id", "e.name", "d.hostname"])
        .orderBy("d.hostname")
        .execute();
      expect(rows.map((row) => [row.name, row.hostname])).toEqual([
        ["staging", "staging.acme.example"],
        ["production", "www.acme.example"],
      ]);
      expect(await readdir(path.join(dataDir, "repos"))).toEqual([`${rows[0]!.id}.git`]);
      const owner = await database.db.selectFrom("users").select(["email", "display_name"]).executeTakeFirstOrThrow();
      expect(owner).toEqual({ email: "ana@localhost", display_name: "ana" });
    } finally {
      await database.close();
    }
  });

  it("stops at exit or quit, leaving the lines after it unread, and keeps no history of piped input", { timeout: 120_000 }, async () => {
    const run = await runShell(["org create leaving", "exit", "org create never", ""].join("\n"), env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("✓ Created org leaving (leaving). You are its owner. Next: `app create <hostname> --org leaving`\n\n");
    const quit = await runShell(["QUIT", "org create never", ""].join("\n"), env);
    expect(quit.code).toBe(0);
    expect(quit.stdout).toBe("");
    expect(await readdir(dataDir)).not.toContain("shell-history");
  });

  it("says an application's repository is missing, at start and in each of its commands, and the rest still works", async () => {
    // A world of its own: the warning at start would reach the other tests' stderr.
    const ownDir = await mkdtemp(path.join(tmpdir(), "edgebot-shell-missing-"));
    const ownDatabase = process.env.TEST_DATABASE_URL ? await openTestDatabase() : undefined;
    const ownEnv = { ...env, DATA_DIR: ownDir, ...(ownDatabase ? { DATABASE_URL: ownDatabase.url! } : {}) };
    try {
      const setup = await runShell(["org create gone", "app create www.gone.example --name shop", "env create gone/shop staging", ""].join("\n"), ownEnv);
      expect(setup.stdout).toContain("✓ Created gone/shop staging");
      const [repository] = await readdir(path.join(ownDir, "repos"));
      await rm(path.join(ownDir, "repos", repository!), { recursive: true });

      const missing = "! the repository of gone/shop is missing; restore it from a backup";
      const commands = [
        "config show gone/shop production",
        "config show gone/shop production section.config.json",
        "config edit gone/shop staging section.config.json",
        "env log gone/shop production",
        "env diff gone/shop staging production",
        "env promote gone/shop staging production",
        "env create gone/shop qa",
        "app split gone/shop --prefix /blog/ --name blog",
        "app show gone/shop",
      ];
      const run = await runShell(`${commands.join("\n")}\n`, ownEnv);
      expect(run.code).toBe(0);
      const replies = run.stdout.trim().split("\n\n");
      expect(replies.slice(0, -1)).toEqual(commands.slice(0, -1).map(() => missing));
      expect(replies.at(-1)).toMatch(/^gone\/shop · origin `www\.gone\.example`/);
      expect(run.stderr).toContain('"msg":"the repository of gone/shop is missing; restore it from a backup"');
      expect(run.stderr).not.toContain("something went wrong");
    } finally {
      await ownDatabase?.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });

  it("stops at start with one line naming a bad variable", async () => {
    const run = await runShell("org list\n", { ...env, PORT: "not-a-port" });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('edgebot: PORT: must be a whole number (got "not-a-port")\n');
  });
});
