import pino from "pino";
import { describe, expect, it } from "vitest";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { plainText } from "../../src/bot/shell.ts";
import { deleteApplication, setApplicationChannel, showApplication } from "../../src/core/applications.ts";
import { Conflict, Forbidden, Invalid } from "../../src/core/errors.ts";
import { deleteOrg } from "../../src/core/orgs.ts";
import { splitApplication } from "../../src/core/splits.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, diskState, failure, gitIn, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

/** An org with an application, its owner, and a developer. */
async function original(): Promise<{ owner: TestUser; developer: TestUser; org: string; ref: string; hostname: string; id: number }> {
  const owner = await buildUser(world.platform);
  const developer = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  await addMember(world.platform, org, developer, "developer");
  const { ref, hostname } = await buildApplication(world.platform, owner, org);
  return { owner, developer, org, ref, hostname, id: await applicationId(world.platform, ref) };
}

describe("app split", () => {
  it("creates an application for a URL prefix whose repository starts as the original's production configuration", async () => {
    const { developer, org, ref, hostname, id } = await original();
    await setApplicationChannel(world.platform, { actor: developer, app: ref, channelId: "C0SPLITS", teamId: "T0TEST" }).catch(() => undefined);
    const split = await splitApplication(world.platform, { actor: developer, app: ref, prefix: "/blog/", name: "blog" });
    expect(split).toEqual({ ref: `${org}/blog`, original: ref, prefix: "/blog/", hostnames: [hostname] });

    const splitId = await applicationId(world.platform, split.ref);
    const files = await world.platform.repositories.filesAt(splitId, "production");
    expect(files).toEqual(await world.platform.repositories.filesAt(id, "production"));
    expect(Object.keys(files).sort()).toEqual(["section.config.json", "varnish/default.vcl"]);
    expect(await gitIn(world, splitId, ["log", "--format=%an <%ae>|%s", "production"])).toBe(`${developer.displayName} <${developer.email}>|Split /blog/ of ${ref} into blog`);

    const shownSplit = await showApplication(world.platform, { actor: developer, app: split.ref });
    expect(shownSplit.splitOf).toEqual({ ref, prefix: "/blog/" });
    expect(shownSplit.environments).toEqual([{ name: "production", basedOn: null, liveAt: null, domains: [] }]);
    await splitApplication(world.platform, { actor: developer, app: ref, prefix: "/shop/en/", name: "shop-en" });
    const shownOriginal = await showApplication(world.platform, { actor: developer, app: ref });
    expect(shownOriginal.splits).toEqual([
      { ref: `${org}/blog`, prefix: "/blog/" },
      { ref: `${org}/shop-en`, prefix: "/shop/en/" },
    ]);
    expect(shownOriginal.splitOf).toBeUndefined();

    const audit = await world.platform.db.selectFrom("audit_events").select(["action", "target", "details"]).where("action", "=", "app.split").where("org_slug", "=", org).orderBy("id").execute();
    expect(audit[0]).toEqual({ action: "app.split", target: `${org}/blog`, details: { from: ref, prefix: "/blog/" } });
  });

  it("refuses overlapping prefixes, a taken name, a split of a split and a viewer, writing nothing", async () => {
    const { owner, developer, org, ref } = await original();
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    await splitApplication(world.platform, { actor: developer, app: ref, prefix: "/blog/", name: "blog" });
    const before = await snapshot(world.platform);
    const disk = await diskState(world);

    const overlapping = [
      { prefix: "/blog/", name: "blog-two" },
      { prefix: "/blog/2024/", name: "blog-2024" },
    ];
    for (const attempt of overlapping) {
      const error = await failure(splitApplication(world.platform, { actor: developer, app: ref, ...attempt }));
      expect(error).toBeInstanceOf(Conflict);
      expect(error.message).toBe(`/blog/ of ${ref} is already split to ${org}/blog; prefixes of one application cannot overlap`);
    }
    const taken = await failure(splitApplication(world.platform, { actor: developer, app: ref, prefix: "/news/", name: ref.split("/")[1]! }));
    expect(taken).toMatchObject({ field: "name", message: expect.stringContaining("already has an application named") });
    const splitOfSplit = await failure(splitApplication(world.platform, { actor: owner, app: `${org}/blog`, prefix: "/blog/old/", name: "old" }));
    expect(splitOfSplit).toBeInstanceOf(Invalid);
    expect(splitOfSplit.message).toContain("is itself a split");
    expect(await failure(splitApplication(world.platform, { actor: viewer, app: ref, prefix: "/news/", name: "news" }))).toBeInstanceOf(Forbidden);

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world)).toEqual(disk);
  });

  it("refuses a prefix that is not a path and a bad name before anything is written", async () => {
    const { developer, ref } = await original();
    const before = await snapshot(world.platform);
    const prefixes = ["blog", "/blog", "blog/", "/", "//", "/../", "/a/./b/", "/a b/", "--upload-pack=x", "/bl\u0000og/", `/${"a".repeat(100)}/`, "/x?y/"];
    for (const prefix of prefixes) {
      const error = await failure(splitApplication(world.platform, { actor: developer, app: ref, prefix, name: unique("s") }));
      expect(error, prefix).toBeInstanceOf(Invalid);
      expect((error as Invalid).field, prefix).toBe("prefix");
    }
    for (const name of ["Blog", "-blog", "../blog", "a".repeat(40)]) {
      expect(await failure(splitApplication(world.platform, { actor: developer, app: ref, prefix: "/blog/", name }))).toMatchObject({ field: "name" });
    }
    expect(await failure(splitApplication(world.platform, { actor: developer, app: ref, prefix: undefined, name: "blog" }))).toMatchObject({ field: "prefix" });
    expect(await failure(splitApplication(world.platform, { actor: developer, app: ref, prefix: "/blog/", name: undefined }))).toMatchObject({ field: "name" });
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("lets one of two overlapping splits made at the same moment win", async () => {
    const { developer, ref } = await original();
    const results = await Promise.allSettled([
      splitApplication(world.platform, { actor: developer, app: ref, prefix: "/docs/", name: unique("docs") }),
      splitApplication(world.platform, { actor: developer, app: ref, prefix: "/docs/api/", name: unique("api") }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(Conflict);
    expect((await showApplication(world.platform, { actor: developer, app: ref })).splits).toHaveLength(1);
  });

  it("keeps the original while it has splits; deleting a split hands its prefix back", async () => {
    const { owner, org, ref } = await original();
    const split = await splitApplication(world.platform, { actor: owner, app: ref, prefix: "/blog/", name: "blog" });
    const refused = await failure(deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref }));
    expect(refused).toBeInstanceOf(Conflict);
    expect(refused.message).toBe(`${ref} has splits: delete them first (/blog/ → ${org}/blog)`);

    const deleted = await deleteApplication(world.platform, { actor: owner, app: split.ref, confirm: split.ref });
    expect(deleted.prefixReturned).toEqual({ prefix: "/blog/", to: ref });
    expect((await showApplication(world.platform, { actor: owner, app: ref })).splits).toEqual([]);
    // The prefix is free again, and the original can go once it has no splits.
    await splitApplication(world.platform, { actor: owner, app: ref, prefix: "/blog/", name: "blog-again" });
    await deleteApplication(world.platform, { actor: owner, app: `${org}/blog-again`, confirm: `${org}/blog-again` });
    await deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref });
  });

  it("goes with its org when the org is deleted", async () => {
    const { owner, org, ref } = await original();
    await splitApplication(world.platform, { actor: owner, app: ref, prefix: "/blog/", name: "blog" });
    await deleteOrg(world.platform, { actor: owner, org, confirm: org });
    expect(await world.platform.db.selectFrom("applications as a").innerJoin("orgs as o", "o.id", "a.org_id").select("a.id").where("o.slug", "=", org).execute()).toEqual([]);
  });

  it("answers the command with where the split serves, and its usage when options are missing", async () => {
    const { developer, org, ref, hostname } = await original();
    const run = async (line: string) => plainText((await runCommandLine({ platform: world.platform, actor: developer, teamId: "T0TEST" }, line, { slashCommand: "/edge", logger: pino({ level: "silent" }) })).message);
    expect(await run(`app split ${ref} --prefix /blog/ --name blog`)).toContain(`Created ${org}/blog: it handles \`/blog/\` on ${hostname}`);
    expect(await run(`app show ${ref}`)).toContain(`\`/blog/\` → ${org}/blog`);
    expect(await run(`app show ${org}/blog`)).toContain(`Split of ${ref}: handles \`/blog/\` on its domains.`);
    expect(await run(`app split ${ref} --name news`)).toContain("add --prefix </path/>");
    expect(await run(`app delete ${org}/blog --confirm ${org}/blog`)).toContain(`\`/blog/\` is handled by ${ref} again.`);
  });
});
