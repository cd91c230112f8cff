import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { editConfigFile, promoteEnvironment, startConfigEdit } from "../../src/core/configs.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { Invalid } from "../../src/core/errors.ts";
import { applicationId, buildApplication, buildOrg, buildUser, diskState, failure, gitIn, snapshot, useWorld, type TestUser } from "../support/world.ts";

// Someone on the machine plants git configuration and attributes wherever git could look for
// them: in HOME, in XDG_CONFIG_HOME and in the temporary directory (edgebot's old HOME), for
// this whole test process. `*.json merge=union` turns a conflict into invalid JSON.
const planted = mkdtempSync(path.join(tmpdir(), "edgebot-planted-home-"));
const originalEnvironment = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, TMPDIR: process.env.TMPDIR };
mkdirSync(path.join(planted, ".config", "git"), { recursive: true });
mkdirSync(path.join(planted, "git"), { recursive: true });
writeFileSync(path.join(planted, ".config", "git", "attributes"), "*.json merge=union\n*.vcl merge=union\n");
writeFileSync(path.join(planted, "git", "attributes"), "*.json merge=union\n*.vcl merge=union\n");
writeFileSync(path.join(planted, "attributes"), "*.json merge=union\n*.vcl merge=union\n");
writeFileSync(path.join(planted, ".gitconfig"), `[core]\n\tattributesFile = ${path.join(planted, "attributes")}\n[merge]\n\tconflictStyle = diff3\n`);
process.env.HOME = planted;
process.env.XDG_CONFIG_HOME = planted;
process.env.TMPDIR = planted;

const world = useWorld();

afterAll(() => {
  for (const [name, value] of Object.entries(originalEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(planted, { recursive: true, force: true });
});

const config = (origin: string) => `${JSON.stringify({ proxychain: [{ name: "varnish", image: "varnish:7.4" }], origin: { address: origin } }, null, 2)}\n`;

async function edit(actor: TestUser, ref: string, env: string, file: string, content: string) {
  const { base } = await startConfigEdit(world.platform, { actor, app: ref, env, path: file });
  return editConfigFile(world.platform, { actor, app: ref, env, path: file, content, base });
}

/** An application whose staging and production each point at their own origin: their merge conflicts, as git's defaults see it. */
async function divergedApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org);
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
  await edit(owner, ref, "staging", "section.config.json", config("staging.example.com"));
  await edit(owner, ref, "production", "section.config.json", config("production.example.com"));
  return { owner, ref, id: await applicationId(world.platform, ref) };
}

describe("a promotion merges the same on every machine, and its result is checked", () => {
  it("ignores git configuration and attributes in HOME, XDG_CONFIG_HOME and the temporary directory", async () => {
    const { owner, ref, id } = await divergedApp();
    const production = await world.platform.repositories.head(id, "production");
    const outcome = await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" });
    // With the planted union driver this merged "cleanly" into two origins: git's defaults see a conflict.
    expect(outcome).toEqual({ kind: "conflict", ref, from: "staging", to: "production", files: ["section.config.json"] });
    expect(await world.platform.repositories.head(id, "production")).toBe(production);
  });

  it("refuses a merge result that is invalid configuration, telling why and changing nothing", async () => {
    const { owner, ref, id } = await divergedApp();
    // The one attributes file git still reads is the repository's own: plant the union driver there.
    await mkdir(path.join(world.platform.repositories.pathOf(id), "info"), { recursive: true });
    await writeFile(path.join(world.platform.repositories.pathOf(id), "info", "attributes"), "*.json merge=union\n");
    const before = await snapshot(world.platform);
    const heads = await diskState(world, [id]);
    const production = await world.platform.repositories.head(id, "production");
    const refused = await failure(promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" }));
    expect(refused).toBeInstanceOf(Invalid);
    expect(refused.message).toMatch(new RegExp(`^promoting staging into production would leave ${ref} production invalid, so nothing was changed: section\\.config\\.json is not valid JSON`));
    expect(await world.platform.repositories.head(id, "production")).toBe(production);
    expect(await gitIn(world, id, ["show", "refs/heads/production:section.config.json"])).toContain("production.example.com");
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world, [id])).toEqual(heads);
  });
});
