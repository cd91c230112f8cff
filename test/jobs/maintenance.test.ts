import { existsSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editConfigFile, promoteEnvironment, startConfigEdit } from "../../src/core/configs.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import type { Platform } from "../../src/core/platform.ts";
import { maintenanceQueueName, startJobQueue, type JobQueue } from "../../src/jobs/queue.ts";
import { until } from "../support/until.ts";
import { applicationId, buildApplication, buildOrg, buildUser, commitOn, gitIn, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
let queue: JobQueue;
let platform: Platform;
const delaySeconds = 2;

beforeAll(async () => {
  queue = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5, maintenanceDelaySeconds: delaySeconds });
  platform = { ...world.platform, maintenance: queue.maintenance };
});

afterAll(async () => {
  await queue?.stop();
});

/** The maintenance jobs of one application, in every state. */
async function maintenanceJobs(id: number): Promise<Array<{ state: string; start_after: Date }>> {
  const { rows } = await sql<{ state: string; start_after: Date }>`select state, start_after from pgboss.job where name = ${maintenanceQueueName} and singleton_key = ${`application:${id}`} order by created_on`.execute(world.platform.db);
  return rows;
}

async function edit(actor: TestUser, app: string, content: string, env = "staging", file = "notes.txt"): Promise<string> {
  const opened = (await startConfigEdit(platform, { actor, app, env, path: file })).base;
  return (await editConfigFile(platform, { actor, app, env, path: file, content, base: opened })).commit;
}

describe("repository maintenance", () => {
  it("runs once a while after changes, packing what they wrote and writing the commit-graph", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    const id = await applicationId(world.platform, ref);
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(await maintenanceJobs(id)).toEqual([]);

    const before = Date.now();
    const first = await edit(owner, ref, "one\n");
    await edit(owner, ref, "two\n");
    const last = await edit(owner, ref, "three\n");
    // One job for the three edits, due a while after the first.
    const waiting = await maintenanceJobs(id);
    expect(waiting.map((job) => job.state)).toEqual(["created"]);
    expect(waiting[0]!.start_after.getTime()).toBeGreaterThanOrEqual(before + delaySeconds * 1000 - 50);
    const repository = world.platform.repositories.pathOf(id);
    expect(await gitIn(world, id, ["count-objects"])).not.toMatch(/^0 objects/);

    const done = await until(async () => ((await maintenanceJobs(id)).every((job) => job.state === "completed") ? true : undefined), {
      what: "the maintenance job",
      timeoutMs: 30_000,
    });
    expect(done).toBe(true);
    expect(await maintenanceJobs(id)).toHaveLength(1);
    expect(await gitIn(world, id, ["count-objects"])).toMatch(/^0 objects/);
    expect(existsSync(path.join(repository, "objects", "info", "commit-graph")) || existsSync(path.join(repository, "objects", "info", "commit-graphs"))).toBe(true);
    expect(await world.platform.repositories.head(id, "staging")).toBe(last);
    expect(await gitIn(world, id, ["log", "--format=%s", `${first}~1..refs/heads/staging`])).toBe("Edit notes.txt\nEdit notes.txt\nEdit notes.txt");
    expect(await gitIn(world, id, ["fsck", "--strict", "--no-progress", "--no-dangling"])).toBe("");

    // A promotion that writes a merge commit schedules the next run; a fast-forward writes nothing to pack.
    await promoteEnvironment(platform, { actor: owner, app: ref, from: "staging", to: "production" });
    expect((await maintenanceJobs(id)).map((job) => job.state)).toEqual(["completed"]);
    await edit(owner, ref, "hotfix\n", "production", "hotfix.txt");
    await edit(owner, ref, "five\n");
    await until(async () => ((await maintenanceJobs(id)).every((job) => job.state === "completed") ? true : undefined), { what: "the second maintenance job", timeoutMs: 30_000 });
    expect((await promoteEnvironment(platform, { actor: owner, app: ref, from: "staging", to: "production" })).kind).toBe("merge");
    expect((await maintenanceJobs(id)).map((job) => job.state)).toEqual(["completed", "completed", "created"]);
  });

  it("maintains every repository once a week, those no change scheduled it for too", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    const id = await applicationId(world.platform, ref);
    // A commit made behind edgebot's back schedules nothing.
    const moved = await commitOn(world, id, "production", "Made with git");
    expect(await maintenanceJobs(id)).toEqual([]);
    expect(await gitIn(world, id, ["count-objects"])).not.toMatch(/^0 objects/);

    await queue.runNow("repositories-weekly-maintenance");
    await until(async () => ((await maintenanceJobs(id)).some((job) => job.state === "completed") ? true : undefined), { what: "the weekly maintenance", timeoutMs: 30_000 });
    expect(await gitIn(world, id, ["count-objects"])).toMatch(/^0 objects/);
    expect(await world.platform.repositories.head(id, "production")).toBe(moved);
  });

  it("fails a job whose payload is malformed without touching any repository", async () => {
    await sql`insert into pgboss.job (name, data, singleton_key, policy, retry_limit) values
      (${maintenanceQueueName}, ${JSON.stringify({ applicationId: "../../etc" })}::jsonb, 'malformed-maintenance', 'stately', 0)`.execute(world.platform.db);
    const state = await until(
      async () => {
        const { rows } = await sql<{ state: string }>`select state from pgboss.job where singleton_key = 'malformed-maintenance'`.execute(world.platform.db);
        return rows[0]?.state === "failed" ? rows[0].state : undefined;
      },
      { what: "the malformed job to fail", timeoutMs: 30_000 },
    );
    expect(state).toBe("failed");
  });
});
