import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Installation } from "@slack/bolt";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SlackInstallations } from "../src/bot/slack/installations.ts";
import { TokenCipher, tokenKeyId } from "../src/bot/slack/token-cipher.ts";
import { openConfiguredDatabase, type DatabaseHandle } from "../src/db/connect.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import type { Database } from "../src/db/schema.ts";
import { openTestDatabase } from "./support/database.ts";
import { sealLegacyToken } from "./support/legacy-token.ts";
import { unique } from "./support/world.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

/** `npm run rotate-token-keys` as a real process, with only PATH, HOME and `env` set. */
function rotateTokenKeys(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/rotate-token-keys.ts"], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let [stdout, stderr] = ["", ""];
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

function workspaceInstall(teamId: string, botToken: string): Installation {
  return {
    team: { id: teamId },
    enterprise: undefined,
    user: { id: "UADMIN", token: undefined, scopes: undefined },
    bot: { token: botToken, id: "BEDGE", userId: "UEDGEBOT", scopes: ["commands", "chat:write"] },
    isEnterpriseInstall: false,
  };
}

// Generous: each run starts tsx, then (without TEST_DATABASE_URL) PGlite's WebAssembly.
describe("npm run rotate-token-keys", { timeout: 120_000 }, () => {
  let dataDir: string;
  let server: DatabaseHandle | undefined;
  /** Where the script finds the database: a fresh database on the test server, else a PGlite DATA_DIR of this file. */
  let env: Record<string, string>;
  const [newest, older, gone] = [randomBytes(32), randomBytes(32), randomBytes(32)];

  /** The script's database, opened here the way the script opens it; PGlite's is closed again so the script can hold DATA_DIR. */
  async function withDatabase<T>(use: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (server) return use(server.db);
    const handle = await openConfiguredDatabase({ databaseUrl: undefined, dataDir });
    try {
      return await use(handle.db);
    } finally {
      await handle.close();
    }
  }

  const storedToken = async (db: Kysely<Database>, teamId: string) =>
    Buffer.from((await db.selectFrom("slack_installations").select("bot_token").where("team_id", "=", teamId).executeTakeFirstOrThrow()).bot_token);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-rotate-"));
    if (process.env.TEST_DATABASE_URL) {
      server = await openTestDatabase();
      env = { DATABASE_URL: server.url! };
    } else {
      env = { DATA_DIR: dataDir };
      await withDatabase(async (db) => void (await migrateToLatest(db)));
    }
  });

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await withDatabase((db) => db.deleteFrom("slack_installations").execute());
  });

  it("re-seals every token with the newest key, so that the newest alone then opens them, and re-seals nothing the second time", async () => {
    const [underOlder, legacy, underNewest] = [unique("T").toUpperCase(), unique("T").toUpperCase(), unique("T").toUpperCase()];
    await withDatabase(async (db) => {
      await new SlackInstallations(db, new TokenCipher(older)).storeInstallation(workspaceInstall(underOlder, "xoxb-older"));
      await new SlackInstallations(db, new TokenCipher(newest)).storeInstallation(workspaceInstall(underNewest, "xoxb-newest"));
      // Stored before key ids: sealed under the older key with nothing bound to it.
      await new SlackInstallations(db, new TokenCipher(older)).storeInstallation(workspaceInstall(legacy, "xoxb-legacy"));
      await db.updateTable("slack_installations").set({ bot_token: sealLegacyToken(older, "xoxb-legacy") }).where("team_id", "=", legacy).execute();
    });
    const keys = `${newest.toString("hex")}, ${older.toString("base64")}`;

    const run = await rotateTokenKeys({ ...env, SLACK_TOKEN_KEYS: keys });

    expect(run).toEqual({ code: 0, stdout: `re-sealed 2 bot tokens under key ${tokenKeyId(newest)}; 1 was already under it\n`, stderr: "" });
    await withDatabase(async (db) => {
      const newestOnly = new SlackInstallations(db, new TokenCipher(newest));
      expect(await newestOnly.botTokenFor(underOlder)).toBe("xoxb-older");
      expect(await newestOnly.botTokenFor(legacy)).toBe("xoxb-legacy");
      expect(await newestOnly.botTokenFor(underNewest)).toBe("xoxb-newest");
    });

    // Idempotent, and SLACK_TOKEN_KEY (one key) is still read by the script as a list of one.
    const again = await rotateTokenKeys({ ...env, SLACK_TOKEN_KEY: newest.toString("hex") });
    expect(again).toEqual({ code: 0, stdout: `re-sealed 0 bot tokens under key ${tokenKeyId(newest)}; 3 were already under it\n`, stderr: "" });
  });

  it("names a token no configured key opens, leaves it as it is, re-seals the others and exits 1", async () => {
    const [orphan, underOlder] = [unique("T").toUpperCase(), unique("T").toUpperCase()];
    const orphanBefore = await withDatabase(async (db) => {
      await new SlackInstallations(db, new TokenCipher(gone)).storeInstallation(workspaceInstall(orphan, "xoxb-orphan"));
      await new SlackInstallations(db, new TokenCipher(older)).storeInstallation(workspaceInstall(underOlder, "xoxb-older"));
      return storedToken(db, orphan);
    });

    const run = await rotateTokenKeys({ ...env, SLACK_TOKEN_KEYS: `${newest.toString("hex")},${older.toString("hex")}` });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`re-sealed 1 bot token under key ${tokenKeyId(newest)}; 0 were already under it\n`);
    expect(run.stderr).toBe(
      `edgebot: left as it is: the bot token of workspace ${orphan} was sealed with key ${tokenKeyId(gone)}, which is not among the configured keys (SLACK_TOKEN_KEYS: ${tokenKeyId(newest)}, ${tokenKeyId(older)})\n` +
        "edgebot: 1 bot token not re-sealed: add the keys named above to SLACK_TOKEN_KEYS and run again, or install edgebot again in those workspaces\n",
    );
    await withDatabase(async (db) => {
      expect(await storedToken(db, orphan)).toEqual(orphanBefore);
      expect(await new SlackInstallations(db, new TokenCipher(newest)).botTokenFor(underOlder)).toBe("xoxb-older");
    });
  });

  it("refuses a bad or missing SLACK_TOKEN_KEYS with one line naming it, without repeating a key, and exits 2", async () => {
    const good = newest.toString("hex");
    const bad = await rotateTokenKeys({ ...env, SLACK_TOKEN_KEYS: `${good},${"ab".repeat(31)}` });
    expect(bad).toEqual({ code: 2, stdout: "", stderr: "edgebot: SLACK_TOKEN_KEYS: the 2nd entry must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -hex 32)\n" });

    const missing = await rotateTokenKeys(env);
    expect(missing).toEqual({ code: 2, stdout: "", stderr: "edgebot: SLACK_TOKEN_KEYS: is not set (rotate-token-keys seals every stored bot token with its first key)\n" });
  });
});
