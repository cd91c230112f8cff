import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import type { DatabaseHandle } from "../../src/db/connect.ts";
import type { Role } from "../../src/db/schema.ts";
import { createApplication } from "../../src/core/applications.ts";
import { createOrg } from "../../src/core/orgs.ts";
import type { Actor, Platform } from "../../src/core/platform.ts";
import { registerUser, type User } from "../../src/core/users.ts";
import { Repositories } from "../../src/repos/repositories.ts";
import { openTestDatabase } from "./database.ts";
import { idleDnsVerifier } from "./dns-server.ts";

const run = promisify(execFile);

export interface World {
  /** Its DNS asks a resolver nothing serves; a test that checks hostnames sets one asking a DNS server on loopback. */
  platform: Platform;
  database: DatabaseHandle;
  gitRoot: string;
}

/** A fresh database, repository root and idle DNS for the test file, closed after it. */
export function useWorld(): World {
  const world = {} as World;
  const dns = idleDnsVerifier();
  beforeAll(async () => {
    world.database = await openTestDatabase();
    world.gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-repos-"));
    world.platform = { db: world.database.db, repositories: new Repositories(world.gitRoot), dns };
  });
  afterAll(async () => {
    await world.database?.close();
    dns.close();
    if (world.gitRoot) await rm(world.gitRoot, { recursive: true, force: true });
  });
  return world;
}

let sequence = 0;
/** A short name no other test in the run uses. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}${process.pid.toString(36)}${sequence}`;
}

export type TestUser = User & Actor;

export async function buildUser(platform: Platform, name = unique("user")): Promise<TestUser> {
  const user = await registerUser(platform, { teamId: "T0TEST", chatUserId: `U${name.toUpperCase()}`, email: `${name}@example.com`, displayName: name });
  return { ...user, userId: user.id };
}

/** An org owned by `owner`, with more members in the given roles. */
export async function buildOrg(platform: Platform, owner: TestUser, slug = unique("org")): Promise<string> {
  await createOrg(platform, { actor: owner, slug });
  return slug;
}

/** Adds a user to an org with a role, as an invitation would. */
export async function addMember(platform: Platform, org: string, user: TestUser, role: Role): Promise<void> {
  const { id } = await platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
  await platform.db.insertInto("memberships").values({ org_id: id, user_id: user.id, role }).execute();
}

/** An application with a real repository; returns `org/app` and its production hostname. */
export async function buildApplication(platform: Platform, owner: TestUser, org: string, hostname = `${unique("www")}.example.com`): Promise<{ ref: string; hostname: string }> {
  const created = await createApplication(platform, { actor: owner, hostname, org });
  return { ref: created.ref, hostname };
}

/** What the database holds, to compare before and after a refused command. */
export async function snapshot(platform: Platform): Promise<Record<string, number>> {
  const tables = [
    "users",
    "orgs",
    "memberships",
    "applications",
    "environments",
    "domains",
    "audit_events",
    "outbox",
    "request_keys",
    "invitations",
    "invitation_approvals",
    "role_requests",
    "role_request_approvals",
  ] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await platform.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

/** The database id of an application, to reach its repository. */
export async function applicationId(platform: Platform, ref: string): Promise<number> {
  const [org, app] = ref.split("/");
  const row = await platform.db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select("a.id")
    .where("o.slug", "=", org!)
    .where("a.slug", "=", app!)
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * What the repository root holds: every entry, and the branches of the given applications'
 * repositories (of all of them when none are given; that costs one git run per repository).
 */
export async function diskState(world: World, applicationIds?: number[]): Promise<{ entries: string[]; branches: Record<string, string[] | "missing"> }> {
  const entries = (await readdir(world.gitRoot)).sort();
  const ids = applicationIds ?? entries.flatMap((entry) => /^(\d+)\.git$/.exec(entry)?.[1] ?? []).map(Number);
  const branches: Record<string, string[] | "missing"> = {};
  for (const id of ids) {
    branches[id] = (await world.platform.repositories.exists(id)) ? await world.platform.repositories.branches(id) : "missing";
  }
  return { entries, branches };
}

/** Runs a call that must fail and returns its error. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Runs git on an application's bare repository, as an operator would at a shell. */
export async function gitIn(world: World, id: number, args: string[]): Promise<string> {
  const { stdout } = await run("git", args, {
    cwd: world.platform.repositories.pathOf(id),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });
  return stdout.trim();
}

/** Adds an empty commit on top of a branch, so it no longer points where it was made from. */
export async function commitOn(world: World, id: number, branch: string, message = "a change"): Promise<string> {
  const tree = await gitIn(world, id, ["rev-parse", `refs/heads/${branch}^{tree}`]);
  const parent = await gitIn(world, id, ["rev-parse", `refs/heads/${branch}`]);
  const { stdout } = await run("git", ["commit-tree", tree, "-p", parent, "-m", message], {
    cwd: world.platform.repositories.pathOf(id),
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: tmpdir(),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
  const sha = stdout.trim();
  await gitIn(world, id, ["update-ref", `refs/heads/${branch}`, sha, parent]);
  return sha;
}
