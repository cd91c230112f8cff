import type { Kysely } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import { recordAudit } from "./audit.ts";
import { Forbidden, NotFound } from "./errors.ts";
import { notifyChannel, type NotifiedChannel } from "./notifications.ts";
import { article, configChange, may } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { authenticateAccessToken } from "./tokens.ts";

/** What a git client may do with one application's repository, from its owner's membership. */
export interface RepositoryAccess {
  application: { id: number; ref: string };
  org: { id: number; slug: string };
  role: Role;
  /** The application's environments: the only branches a push may update. */
  environments: string[];
}

/** One ref a push asks to move, as git's hooks report it. */
export interface RefUpdate {
  ref: string;
  /** The commit the ref points at now; all zeros when it does not exist. */
  before: string;
  /** The commit it is to point at; all zeros to delete it. */
  after: string;
}

/** One branch a push moved, with the commits it brought (newest first, at most a few). */
export interface PushedBranch {
  branch: string;
  before: string;
  after: string;
  /** How many commits the branch gained. */
  count: number;
  commits: Array<{ sha: string; subject: string }>;
}

const missingObject = /^0+$/;

/**
 * What a git client's request may do: whose live token it carries, and their access to
 * `org/app`. Undefined when the token is not one (the client is asked to sign in); `NotFound`
 * when the application does not exist or its owner is not a member, the same answer. Every
 * request of a clone asks this, so it is two short statements: one six-way join took Postgres
 * longer to plan than both of these take to run.
 */
export async function authorizeGitClient(
  db: Kysely<Database>,
  input: {
    /** The password the client sent. */
    token: string;
    org: string;
    app: string;
  },
): Promise<{ actor: Actor & { email: string }; access: RepositoryAccess } | undefined> {
  const token = await authenticateAccessToken(db, input.token);
  if (token === undefined) return undefined;
  const rows = await db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .innerJoin("memberships as m", "m.org_id", "a.org_id")
    .leftJoin("environments as e", "e.application_id", "a.id")
    .where("o.slug", "=", input.org)
    .where("a.slug", "=", input.app)
    .where("m.user_id", "=", token.userId)
    .select(["a.id as application_id", "a.slug as application_slug", "o.id as org_id", "o.slug as org_slug", "m.role", "e.name as environment"])
    .execute();
  const first = rows[0];
  if (first === undefined) throw new NotFound(`repository ${input.org}/${input.app} not found`);
  return {
    actor: { userId: token.userId, email: token.email },
    access: {
      application: { id: first.application_id, ref: `${first.org_slug}/${first.application_slug}` },
      org: { id: first.org_id, slug: first.org_slug },
      role: first.role,
      environments: rows.flatMap((row) => (row.environment === null ? [] : [row.environment])).sort(),
    },
  };
}

/** Whether the role may push at all; a viewer is told why before sending anything. */
export function authorizePush(access: RepositoryAccess): void {
  // Pushing is editing configuration: SPEC §1 gives that to developers and up.
  if (!may(access.role, "build")) {
    throw new Forbidden(`you are ${article(access.role)} ${access.role} of ${access.org.slug}: only an owner, admin or developer can push to ${access.application.ref}`);
  }
}

/**
 * Checks every ref a push asks to move and says why each refused one is refused; an empty
 * list accepts the push. Branches are the application's environments: a push may move them
 * forward but not create, delete or tag (environments are made with `env create` and removed
 * with `env delete`, which keep the database and the repository in step). `production` takes
 * an owner or admin. What each update brings is checked by `review` (the rules every write
 * follows, `configurationProblems` in configs.ts: every new commit's tree and message, and the
 * new tip's section.config.json), given the objects as they wait in git's quarantine: they are
 * not in the repository until the push is accepted.
 */
export async function reviewPush(access: RepositoryAccess, updates: RefUpdate[], review: (commit: string) => Promise<string[]>): Promise<string[]> {
  const refusals: string[] = [];
  for (const update of updates) {
    const branch = /^refs\/heads\/(.+)$/.exec(update.ref)?.[1];
    if (branch === undefined) {
      refusals.push(`${update.ref}: only branches are kept here, one per environment (no tags or other refs)`);
      continue;
    }
    if (!may(access.role, "build")) {
      refusals.push(`${branch}: you are ${article(access.role)} ${access.role} of ${access.org.slug}: only an owner, admin or developer can push`);
      continue;
    }
    if (missingObject.test(update.after)) {
      refusals.push(`${branch}: branches are not deleted by push: delete the environment with \`env delete ${access.application.ref} ${branch}\``);
      continue;
    }
    if (!access.environments.includes(branch)) {
      refusals.push(`${branch}: is not an environment of ${access.application.ref}: create environments with \`env create ${access.application.ref} <env>\`, then push to it`);
      continue;
    }
    if (!may(access.role, configChange(branch))) {
      refusals.push(`${branch}: pushing to ${branch} takes an owner or admin (you are ${article(access.role)} ${access.role}): push to another environment and ask them to promote it`);
      continue;
    }
    for (const problem of await review(update.after)) refusals.push(`${branch}: ${problem}`);
  }
  return refusals;
}

/**
 * Records an accepted push: one audit event per branch and the announcement, in one
 * transaction. Says whose channel it was announced in (the application's or the org's), or
 * undefined when neither is set and it was announced nowhere.
 */
export async function recordPush(platform: Platform, input: { actor: Actor; access: RepositoryAccess; branches: PushedBranch[] }): Promise<NotifiedChannel["of"] | undefined> {
  if (input.branches.length === 0) return undefined;
  const { access } = input;
  return inTransaction(platform, async (tx) => {
    let announcedIn: NotifiedChannel["of"] | undefined;
    for (const pushed of input.branches) {
      await recordAudit(tx, {
        org: access.org,
        actor: input.actor,
        action: "git.push",
        target: `${access.application.ref} ${pushed.branch}`,
        details: { from: pushed.before, to: pushed.after, commits: pushed.count },
      });
      const posted = await notifyChannel(tx, {
        kind: "git.pushed",
        payload: { app: access.application.ref, env: pushed.branch, count: pushed.count, commits: pushed.commits, before: pushed.before, after: pushed.after },
        actor: input.actor,
        org: access.org,
        app: { id: access.application.id },
      });
      announcedIn = posted?.of;
    }
    await platform.maintenance?.schedule(tx, access.application.id);
    return announcedIn;
  });
}
