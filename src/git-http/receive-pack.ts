import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { configurationProblems } from "../core/configs.ts";
import type { Actor, Platform } from "../core/platform.ts";
import { recordPush, reviewPush, type RepositoryAccess } from "../core/pushes.ts";
import { HookRelay, notThroughEdgebot, type HookCall, type HookVerdict } from "./hook-relay.ts";
import { runHttpBackend } from "./http-backend.ts";
import { withRepositoryLock } from "../core/repository-locks.ts";

/** A push's client: who pushes, to which repository, with which role. */
export interface Pusher {
  actor: Actor & { email: string };
  access: RepositoryAccess;
}

export interface ReceivePackOptions {
  platform: Platform;
  logger: Logger;
  /** The largest pack a push may send. */
  maxPushBytes: number;
  /** Called once an accepted push has been recorded and announced. */
  onPushed?: () => void;
}

// How many commits of a push the announcement names; the count covers the rest.
const announcedCommits = 10;

/**
 * Every object a push sends is checked by git's fsck before the hooks run, and what fsck only
 * warns about by default (or ignores) in a tree is an error here: a path git itself would refuse
 * to check out (`.git`, `..`, `git~1`, `.GIT.`), a bad .gitmodules or mode, a link as .gitignore.
 */
const receiveFsck: Record<string, string> = {
  "receive.fsckObjects": "true",
  ...Object.fromEntries(
    [
      "hasDotgit",
      "hasDot",
      "hasDotdot",
      "emptyName",
      "fullPathname",
      "nullSha1",
      "zeroPaddedFilemode",
      "badFilemode",
      "nulInCommit",
      "gitmodulesParse",
      "gitignoreSymlink",
      "gitattributesSymlink",
      "mailmapSymlink",
    ].map((id) => [`receive.fsck.${id}`, "error"]),
  ),
};

/**
 * Pushes, through git's own `git http-backend` (whose receive-pack runs edgebot's hooks), and
 * their ref advertisement. Pushes are checked where only git can see them: in a pre-receive hook,
 * after the pack has arrived (quarantined) and before any ref moves. `core.hooksPath` is set for
 * the receive-pack through GIT_CONFIG_COUNT/KEY/VALUE, so the repositories carry no hooks of
 * their own and a push that did not come through here runs none. The hooks call back with the
 * push's random id (see hook-relay.ts); the rules run here (src/core/pushes.ts) with the token
 * owner's identity, and the answer goes back to the client as "remote:" lines. The post-receive
 * hook reports the refs that did move, so the announcement and the audit name exactly what the
 * push changed. git itself refuses deletions and non-fast-forward updates (receive.denyDeletes,
 * receive.denyNonFastForwards): an environment's history is never rewritten by a push.
 */
export class ReceivePack {
  private readonly pushes = new Map<string, Pusher>();
  private readonly hooks: HookRelay;

  constructor(private readonly options: ReceivePackOptions) {
    this.hooks = new HookRelay((call) => this.answerHook(call), options.logger);
  }

  /** Serves one push request (or its ref advertisement) of a client allowed to push. */
  async serve(request: IncomingMessage, response: ServerResponse, pusher: Pusher, asked: { advertise: boolean; protocol: string | undefined }): Promise<void> {
    const { repositories } = this.options.platform;
    const backend = {
      root: repositories.root,
      repository: repositories.pathOf(pusher.access.application.id),
      service: "git-receive-pack",
      user: pusher.actor.email,
      protocol: asked.protocol,
    } as const;
    if (asked.advertise) return runHttpBackend(request, response, { ...backend, endpoint: "info/refs" }, this.options.logger);

    const pushId = randomBytes(24).toString("base64url");
    const hooks = await this.hooks.hooksFor(pushId);
    this.pushes.set(pushId, pusher);
    try {
      // The push's refs move inside git's receive-pack: the repository lock is held around it, so
      // that no edit, promotion or maintenance of the application runs in between (core/repository-locks.ts).
      await withRepositoryLock(this.options.platform, pusher.access.application.id, () => runHttpBackend(
        request,
        response,
        {
          ...backend,
          endpoint: "git-receive-pack",
          env: {
            ...gitConfig({
              "core.hooksPath": hooks.hooksPath,
              "receive.denyDeletes": "true",
              "receive.denyNonFastForwards": "true",
              "receive.maxInputSize": String(this.options.maxPushBytes),
              ...receiveFsck,
            }),
            ...hooks.env,
          },
        },
        this.options.logger,
      ));
    } finally {
      this.pushes.delete(pushId);
    }
  }

  /** Stops the hooks' socket; pushes in flight are refused by their hooks. */
  close(): Promise<void> {
    return this.hooks.close();
  }

  /** One hook's call: pre-receive is answered with the verdict, post-receive records the push. */
  private async answerHook(call: HookCall): Promise<HookVerdict> {
    const push = this.pushes.get(call.pushId);
    if (!push) return { ok: false, messages: [notThroughEdgebot] };
    const { repositories } = this.options.platform;
    const applicationId = push.access.application.id;
    if (call.hook === "pre-receive") {
      const quarantine = call.quarantine;
      const refusals = await reviewPush(push.access, call.updates, (commit) => configurationProblems(repositories, applicationId, commit, quarantine === undefined ? {} : { quarantine }));
      if (refusals.length === 0) return { ok: true, messages: [] };
      return { ok: false, messages: ["edgebot refused this push; nothing was changed:", ...refusals.map((refusal) => `  ${refusal}`)] };
    }
    const branches = [];
    for (const update of call.updates) {
      const branch = /^refs\/heads\/(.+)$/.exec(update.ref)?.[1];
      if (branch === undefined || /^0+$/.test(update.after)) continue;
      branches.push({ branch, before: update.before, after: update.after, ...(await repositories.commitsBetween(applicationId, update.before, update.after, announcedCommits)) });
    }
    const announcedIn = await recordPush(this.options.platform, { actor: push.actor, access: push.access, branches });
    this.options.onPushed?.();
    const ref = push.access.application.ref;
    // The channel's name is not stored, and its id means nothing in a terminal: whose channel it is does.
    const announced =
      announcedIn === undefined
        ? `not announced: no channel is set: \`app channel ${ref} #channel\``
        : `announced in ${announcedIn === "application" ? "the application's" : "the org's"} channel`;
    return {
      ok: true,
      messages: branches.map((pushed) => `edgebot: ${ref} ${pushed.branch} now at ${pushed.after.slice(0, 7)} (${pushed.count} new commit${pushed.count === 1 ? "" : "s"}); ${announced}.`),
    };
  }
}

/** Configuration for one git run, through the environment: never from the request. */
function gitConfig(settings: Record<string, string>): Record<string, string> {
  const entries = Object.entries(settings);
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}
