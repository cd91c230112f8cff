import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HookRelay, parseHookCall, type HookCall, type HookVerdict } from "../../src/git-http/hook-relay.ts";
import { runGitClient } from "../support/git-client.ts";

const zeros = "0".repeat(40);

// A real git push into a real bare repository whose hooks are the relay's (its core.hooksPath;
// http-backend's receive-pack is given it in its environment, which git clears for a local push):
// the hooks run, call back over the socket, and relay the verdict to git.
describe("the push hooks' relay", () => {
  let home: string;
  let bare: string;
  let clone: string;
  let relay: HookRelay;
  const calls: HookCall[] = [];
  let verdict: (call: HookCall) => HookVerdict;

  const git = (args: string[], env: Record<string, string> = {}) => runGitClient(args, { cwd: clone, home, author: { name: "Dev", email: "dev@example.com" }, env });

  /** Pushes the clone's main with the relay's hooks in force for push `pushId`. */
  async function push(pushId: string) {
    const hooks = await relay.hooksFor(pushId);
    expect((await git(["--git-dir", bare, "config", "core.hooksPath", hooks.hooksPath])).code).toBe(0);
    return git(["push", bare, "main"], hooks.env);
  }

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "edgebot-hook-relay-"));
    bare = path.join(home, "pushed.git");
    clone = path.join(home, "clone");
    await promisify(execFile)("git", ["init", "--quiet", "--bare", bare]);
    await promisify(execFile)("git", ["init", "--quiet", "--initial-branch=main", clone]);
    expect((await git(["commit", "--quiet", "--allow-empty", "-m", "First"])).code).toBe(0);
    relay = new HookRelay(async (call) => {
      calls.push(call);
      return verdict(call);
    }, pino({ level: "silent" }));
  });

  afterAll(async () => {
    await relay?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("hands git's ref updates to the answer, and a refusal back to the pusher, before any ref moves", async () => {
    verdict = () => ({ ok: false, messages: ["edgebot refused this push; nothing was changed:", "  not today"] });
    const refused = await push("push-1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("remote: edgebot refused this push; nothing was changed:");
    expect(refused.stderr).toContain("remote:   not today");
    const commit = (await git(["rev-parse", "main"])).stdout.trim();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ pushId: "push-1", hook: "pre-receive", updates: [{ ref: "refs/heads/main", before: zeros, after: commit }] });
    // The objects wait in git's quarantine, inside the repository, until the verdict.
    expect(path.dirname(calls[0]!.quarantine!)).toBe(path.join(bare, "objects"));
    expect(await git(["ls-remote", bare])).toMatchObject({ stdout: "" });
  });

  it("lets an accepted push through and reports what moved after", async () => {
    calls.length = 0;
    verdict = (call) => ({ ok: true, messages: call.hook === "post-receive" ? ["edgebot: announced."] : [] });
    const accepted = await push("push-2");
    expect(accepted.code).toBe(0);
    expect(accepted.stderr).toContain("remote: edgebot: announced.");
    expect(calls.map((call) => [call.hook, call.pushId])).toEqual([
      ["pre-receive", "push-2"],
      ["post-receive", "push-2"],
    ]);
    expect(calls[1]!.quarantine).toBeUndefined();
  });

  it("keeps its hooks and socket in a directory only edgebot's user can reach, gone once closed", async () => {
    const { hooksPath, env } = await relay.hooksFor("push-3");
    expect((await stat(hooksPath)).mode & 0o777).toBe(0o700);
    expect(path.basename(hooksPath)).toMatch(new RegExp(`^edgebot-hooks-${process.pid}-`));
    expect((await readdir(hooksPath)).sort()).toEqual(["hooks.sock", "post-receive", "pre-receive"]);
    expect(env.EDGEBOT_HOOK_SOCKET).toBe(path.join(hooksPath, "hooks.sock"));
    const closing = new HookRelay(async () => ({ ok: true, messages: [] }), pino({ level: "silent" }));
    const closed = (await closing.hooksFor("push-4")).hooksPath;
    await closing.close();
    await expect(stat(closed)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a push whose hooks were not given a push of this process, and calls that are not a hook's", async () => {
    calls.length = 0;
    expect((await git(["commit", "--quiet", "--allow-empty", "-m", "Second"])).code).toBe(0);
    expect((await git(["--git-dir", bare, "config", "core.hooksPath", (await relay.hooksFor("unused")).hooksPath])).code).toBe(0);
    const refused = await git(["push", bare, "main"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("remote: edgebot: this push did not come through edgebot's server; nothing was changed.");
    expect(calls).toEqual([]);
    const commit = "a".repeat(40);
    expect(parseHookCall(JSON.stringify({ pushId: "p", hook: "pre-receive", updates: [{ ref: "refs/heads/main", before: zeros, after: commit }] }))).toEqual({
      pushId: "p",
      hook: "pre-receive",
      updates: [{ ref: "refs/heads/main", before: zeros, after: commit }],
      quarantine: undefined,
    });
    for (const body of [
      "not json",
      JSON.stringify({ pushId: "p", hook: "update", updates: [] }),
      JSON.stringify({ pushId: 1, hook: "pre-receive", updates: [] }),
      JSON.stringify({ pushId: "p", hook: "pre-receive", updates: [{ ref: "refs/heads/main", before: zeros, after: "HEAD" }] }),
      JSON.stringify({ pushId: "p", hook: "pre-receive", updates: [null] }),
    ]) {
      expect(parseHookCall(body)).toBeUndefined();
    }
  });
});
