import { z } from "zod";
import { BranchMoved, filePath, type Repositories, type BranchDiff, type CommitSummary, type CommitAuthor, type TreeFile } from "../repos/repositories.ts";
import { asText as textOf, controlCharacterProblem, maxTextFileBytes, treePathProblem } from "../repos/tree-rules.ts";
import { findEnvironmentAsMember, requireRepository, type EnvironmentAccess } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { sectionConfigSchema } from "./configuration.ts";
import { Conflict, Invalid } from "./errors.ts";
import { environmentName, parseField } from "./names.ts";
import { notify } from "./notifications.ts";
import { authorizeConfigChange } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { userById } from "./users.ts";
import { lockRepository } from "./repository-locks.ts";

/** What a branch comparison and a history show, as the repositories report them. */
export type { BranchDiff, CommitSummary } from "../repos/repositories.ts";

// An environment's configuration is its branch: these read it, edit one file of it, compare two
// branches and merge one into another, each git step checked against the branch head it started from.

/** A path inside the repository, checked before git sees it by the repositories' own rule. */
export const configPath = z
  .string()
  .trim()
  .regex(
    filePath,
    "must be a path inside the repository, like varnish/default.vcl: letters, digits, dots, dashes, underscores and slashes, without .. or a leading / or -",
  )
  .superRefine((file, context) => {
    const problem = treePathProblem(file);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });

const commitId = z.string().regex(/^[0-9a-f]{40}$/, "is not a commit id");

const logLimit = z.coerce.number().int("must be a whole number").min(1, "must be at least 1").max(50, "must be 50 at most");

const commitMessage = z
  .string()
  .trim()
  .min(1, "is empty")
  .max(500, "must be 500 characters at most")
  .superRefine((message, context) => {
    const problem = controlCharacterProblem(message);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });

/** The largest file edgebot reads into a message or takes in an edit: a larger one is not read at all. */
export const maxConfigFileBytes = maxTextFileBytes;

/** The file whose content must match `sectionConfigSchema`. */
export const sectionConfigPath = "section.config.json";

/** The files of an environment at its head. */
export interface ConfigListing {
  ref: string;
  env: string;
  head: string;
  files: TreeFile[];
}

/** One file of an environment at its head. */
export interface ConfigFile {
  ref: string;
  env: string;
  path: string;
  head: string;
  size: number;
  /** The text; null for a binary file. */
  content: string | null;
}

/** A file as an edit starts from: its content at `base`, the head of the environment then. */
export interface EditableFile {
  ref: string;
  env: string;
  path: string;
  base: string;
  /** Empty for a file that does not exist yet. */
  content: string;
  exists: boolean;
}

/** An environment's files, with their sizes. */
export async function listConfigFiles(platform: Platform, input: { actor: Actor; app: string; env: string }): Promise<ConfigListing> {
  const environment = await findEnvironmentWithRepository(platform, input.actor, input.app, input.env);
  const head = await platform.repositories.head(environment.applicationId, environment.name);
  return { ref: environment.ref, env: environment.name, head, files: await platform.repositories.files(environment.applicationId, environment.name) };
}

/** One file of an environment, as text unless it is binary or too large to show. */
export async function readConfigFile(platform: Platform, input: { actor: Actor; app: string; env: string; path: string }): Promise<ConfigFile> {
  const file = parseField(configPath, input.path, "path");
  const environment = await findEnvironmentWithRepository(platform, input.actor, input.app, input.env);
  const head = await platform.repositories.head(environment.applicationId, environment.name);
  const bytes = await readBytes(platform, environment, head, file);
  return { ref: environment.ref, env: environment.name, path: file, head, size: bytes.length, content: asText(bytes) };
}

/** The newest commits of an environment, newest first: who, when, what. */
export async function environmentLog(
  platform: Platform,
  input: {
    actor: Actor;
    app: string;
    env: string;
    /** How many commits (default 10, at most 50). */
    limit?: number | string | undefined;
  },
): Promise<{ ref: string; env: string; commits: CommitSummary[] }> {
  const limit = input.limit === undefined ? 10 : parseField(logLimit, input.limit, "limit", "--limit");
  const environment = await findEnvironmentWithRepository(platform, input.actor, input.app, input.env);
  return { ref: environment.ref, env: environment.name, commits: await platform.repositories.log(environment.applicationId, environment.name, limit) };
}

/**
 * Starts an edit: checks the actor may change the environment and reads the file at the
 * environment's head, which the edit must still find when it is saved.
 */
export async function startConfigEdit(platform: Platform, input: { actor: Actor; app: string; env: string; path: string }): Promise<EditableFile> {
  const file = parseField(configPath, input.path, "path");
  const environment = await findEnvironmentWithRepository(platform, input.actor, input.app, input.env);
  authorizeConfigChange(environment.role, environment.name, `application ${input.app} not found`);
  const base = await platform.repositories.head(environment.applicationId, environment.name);
  const found = await platform.repositories.findFileAt(environment.applicationId, base, file, { maxBytes: maxConfigFileBytes });
  if (found.kind === "directory") throw new Invalid(`${file} is a directory: name a file in it (see config show ${environment.ref} ${environment.name})`, "path");
  if (found.kind === "too_large") throw tooLargeToOpen(file, found.size, "change");
  const content = found.kind === "file" ? asText(found.content) : "";
  if (content === null) throw new Invalid(`${file} is binary: change it with git`, "path");
  return { ref: environment.ref, env: environment.name, path: file, base, content, exists: found.kind === "file" };
}

/**
 * Commits a new content of one file to an environment's branch as the actor. JSON must parse
 * and section.config.json must match its schema; the branch must still be at `base`, the head
 * the edit started from, or nothing is committed ("changed since you opened it").
 */
export async function editConfigFile(
  platform: Platform,
  input: {
    actor: Actor;
    app: string;
    env: string;
    path: string;
    /** The file's whole new content. */
    content: string;
    /** The commit message; `Edit <path>` when absent. */
    message?: string | undefined;
    /** The environment's head when the edit started (`startConfigEdit`). */
    base: string;
  },
): Promise<{ ref: string; env: string; path: string; commit: string }> {
  const file = parseField(configPath, input.path, "path");
  const base = parseField(commitId, input.base, "base", "the edit's starting point");
  const message = input.message === undefined || input.message.trim() === "" ? `Edit ${file}` : parseField(commitMessage, input.message, "message", "the commit message");
  const content = normalizeContent(input.content);
  checkConfigFile(file, content);
  const environment = await findEnvironmentWithRepository(platform, input.actor, input.app, input.env);
  authorizeConfigChange(environment.role, environment.name, `application ${input.app} not found`);
  const author = await commitAuthor(platform, input.actor);
  const { applicationId, name: env, ref } = environment;

  const written = await platform.repositories.commitFile(applicationId, { base, file, content, message, author }).catch((error: unknown) => {
    // A base the repository does not hold is an edit from a state that never was here.
    if (error instanceof Error && /bad object|not a valid|not a tree|failed to unpack/i.test(error.message)) throw changedSinceOpened(ref, env);
    throw error;
  });
  if (written.kind === "unchanged") throw new Invalid(`${file} already holds exactly this: nothing to commit`, "content");
  if (written.kind === "path_taken") throw new Invalid(`${file} clashes with a directory of that name, or sits under a file: name a file`, "path");
  const { commit } = written;

  return inTransaction(platform, async (tx, undo) => {
    await lockRepository(tx, applicationId);
    await recordAudit(tx, { org: environment.org, actor: input.actor, action: "config.edit", target: `${ref} ${env}`, details: { path: file, commit, base, message } });
    await notify(tx, { org: environment.org, app: { id: applicationId }, actor: input.actor, kind: "config.edited", payload: { app: ref, env, path: file, commit, message } });
    await platform.maintenance?.schedule(tx, applicationId);
    await moveBranch(platform, environment, { commit, expected: base, refusal: () => changedSinceOpened(ref, env) });
    undo.onRollback(() => platform.repositories.moveBranch(applicationId, env, base, commit));
    return { ref, env, path: file, commit };
  });
}

/** What promoting `from` into `to` would bring: the files changed on `from` since they last met, and the diff. */
export async function diffEnvironments(
  platform: Platform,
  input: { actor: Actor; app: string; from: string; to: string },
): Promise<{ ref: string; from: string; to: string } & BranchDiff> {
  const { from, to } = await environmentPair(platform, input);
  const diff = await platform.repositories.diff(from.applicationId, to.name, from.name);
  return { ref: from.ref, from: from.name, to: to.name, ...diff };
}

/** How a promotion ended; a conflict changed nothing. */
export type PromotionOutcome =
  | { kind: "fast_forward" | "merge"; ref: string; from: string; to: string; commit: string }
  | { kind: "up_to_date"; ref: string; from: string; to: string; commit: string }
  | { kind: "conflict"; ref: string; from: string; to: string; files: string[] };

/**
 * Merges `from` into `to`: a fast-forward when `to` has nothing of its own, else a merge
 * commit by the actor. A conflict changes nothing and names the files; so does `to` moving
 * while the merge was made, and a result that breaks the rules a push follows (`configurationProblems`). Promotions are announced in the application's channel.
 */
export async function promoteEnvironment(
  platform: Platform,
  input: {
    actor: Actor;
    app: string;
    from: string;
    to: string;
    /** The heads the person saw (a diff's Promote button): when either branch has moved since, nothing is promoted (`Conflict` on `expected`). */
    expected?: { fromHead: string; toHead: string };
  },
): Promise<PromotionOutcome> {
  const [{ from, to }, author] = await Promise.all([environmentPair(platform, input), commitAuthor(platform, input.actor)]);
  authorizeConfigChange(to.role, to.name, `application ${input.app} not found`);
  const names = { ref: to.ref, from: from.name, to: to.name };
  const plan = await platform.repositories.planMerge(to.applicationId, { from: from.name, to: to.name, message: `Promote ${from.name} into ${to.name}`, author });
  // The plan merges exactly the source head it read, and the branch moves only from the head it read (moveBranch): both as seen.
  if (input.expected !== undefined && (plan.source !== input.expected.fromHead || plan.head !== input.expected.toHead)) {
    throw new Conflict(`${to.ref} ${from.name} or ${to.name} changed since you looked: nothing was promoted`, "expected");
  }
  if (plan.kind === "conflict") return { kind: "conflict", ...names, files: plan.files };
  if (plan.kind === "up_to_date") return { kind: "up_to_date", ...names, commit: plan.head };
  // Each side was checked when it was written, but their merge is new: it meets the same rules before the branch moves.
  const problems = await configurationProblems(platform.repositories, to.applicationId, plan.commit);
  if (problems.length > 0) {
    throw new Invalid(`promoting ${from.name} into ${to.name} would leave ${to.ref} ${to.name} invalid, so nothing was changed: ${problems.join("; ")}`, "from");
  }

  return inTransaction(platform, async (tx, undo) => {
    await lockRepository(tx, to.applicationId);
    const fastForward = plan.kind === "fast_forward";
    await recordAudit(tx, { org: to.org, actor: input.actor, action: "env.promote", target: `${to.ref} ${to.name}`, details: { from: from.name, commit: plan.commit, previous: plan.head, fastForward } });
    await notify(tx, { org: to.org, app: { id: to.applicationId }, actor: input.actor, kind: "env.promoted", payload: { app: to.ref, from: from.name, to: to.name, commit: plan.commit, fastForward } });
    if (plan.kind === "merge") await platform.maintenance?.schedule(tx, to.applicationId);
    await moveBranch(platform, to, {
      commit: plan.commit,
      expected: plan.head,
      refusal: () => new Conflict(`${to.ref} ${to.name} changed while it was being promoted: nothing was changed, promote again`, "to"),
    });
    undo.onRollback(() => platform.repositories.moveBranch(to.applicationId, to.name, plan.head, plan.commit));
    return { kind: plan.kind, ...names, commit: plan.commit };
  });
}

/** Two different environments of one application, both visible to the actor. */
async function environmentPair(platform: Platform, input: { actor: Actor; app: string; from: string; to: string }): Promise<{ from: EnvironmentAccess; to: EnvironmentAccess }> {
  const fromName = parseField(environmentName, input.from, "from", "environment name");
  const toName = parseField(environmentName, input.to, "to", "environment name");
  if (fromName === toName) throw new Invalid(`name two different environments, not ${fromName} twice`, "to");
  // Both at once; when both fail, the first named is the one reported.
  const [from, to] = await Promise.allSettled([
    findEnvironmentAsMember(platform.db, input.actor, input.app, fromName),
    findEnvironmentAsMember(platform.db, input.actor, input.app, toName),
  ]);
  if (from.status === "rejected") throw from.reason;
  if (to.status === "rejected") throw to.reason;
  await requireRepository(platform, { id: to.value.applicationId, ref: to.value.ref });
  return { from: from.value, to: to.value };
}

/** An environment the actor can see, whose repository is on disk. */
async function findEnvironmentWithRepository(platform: Platform, actor: Actor, app: string, env: string): Promise<EnvironmentAccess> {
  const environment = await findEnvironmentAsMember(platform.db, actor, app, env);
  await requireRepository(platform, { id: environment.applicationId, ref: environment.ref });
  return environment;
}

/** Moves the environment's branch from `expected` to `commit`, or throws `refusal()` when it moved meanwhile. */
async function moveBranch(platform: Platform, environment: EnvironmentAccess, move: { commit: string; expected: string; refusal: () => Error }): Promise<void> {
  try {
    await platform.repositories.moveBranch(environment.applicationId, environment.name, move.commit, move.expected);
  } catch (error) {
    if (error instanceof BranchMoved) throw move.refusal();
    throw error;
  }
}

function changedSinceOpened(ref: string, env: string): Conflict {
  return new Conflict(`${ref} ${env} changed since you opened it: nothing was committed. Open the file again to edit its new content.`, "content");
}

async function commitAuthor(platform: Platform, actor: Actor): Promise<CommitAuthor> {
  const user = await userById(platform.db, actor);
  return { name: user.displayName, email: user.email };
}

async function readBytes(platform: Platform, environment: EnvironmentAccess, head: string, file: string): Promise<Buffer> {
  const found = await platform.repositories.findFileAt(environment.applicationId, head, file, { maxBytes: maxConfigFileBytes });
  if (found.kind === "too_large") throw tooLargeToOpen(file, found.size, "read");
  if (found.kind === "directory") throw new Invalid(`${file} is a directory: see config show ${environment.ref} ${environment.name}`, "path");
  if (found.kind === "missing") throw new Invalid(`${environment.ref} ${environment.name} has no file ${file}`, "path");
  return found.content;
}

/** The bytes as text, or null when they are binary (see tree-rules.ts). */
function asText(bytes: Buffer): string | null {
  return textOf(bytes) ?? null;
}

/** Files are size-checked before they are read: a larger one is never loaded into edgebot. */
function tooLargeToOpen(file: string, size: number, verb: "read" | "change"): Invalid {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return new Invalid(`${file} is ${mib(size)}: edgebot opens files up to ${mib(maxConfigFileBytes)}; ${verb} it with git`, "path");
}

// Text boxes send \r\n on some systems and drop the last newline: files are kept with \n and end with one.
function normalizeContent(content: string): string {
  const text = content.replace(/\r\n?/g, "\n");
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * The rule for a configuration file's content, however it arrives (an edit, a push): JSON must
 * parse, and section.config.json must match its schema. Errors name the field "content".
 */
export function checkConfigFile(file: string, content: string): void {
  if (Buffer.byteLength(content) > maxConfigFileBytes) throw new Invalid(`${file} would be larger than ${maxConfigFileBytes / 1024 / 1024} MiB`, "content");
  const control = controlCharacterProblem(content);
  if (control !== undefined) throw new Invalid(`${file}: ${control}`, "content");
  if (!file.endsWith(".json")) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new Invalid(`${file} is not valid JSON: ${(error as Error).message}`, "content");
  }
  if (file !== sectionConfigPath) return;
  const result = sectionConfigSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join(".") : "the top level";
    throw new Invalid(`${file} does not match its schema: ${where}: ${issue.message}`, "content");
  }
}

/**
 * What is wrong with the configuration `commit` would put on an environment, by the rules every
 * write follows (a push, a promotion's merge): the commits it brings that no environment holds
 * yet (paths, modes, messages, text; see `Repositories.reviewNewCommits`) and its
 * section.config.json. Empty when it is valid. `quarantine` is where a push's objects wait.
 */
export async function configurationProblems(repositories: Repositories, applicationId: number, commit: string, options: { quarantine?: string } = {}): Promise<string[]> {
  const problems = await repositories.reviewNewCommits(applicationId, commit, options);
  const found = await repositories.findFileAt(applicationId, commit, sectionConfigPath, { ...options, maxBytes: maxConfigFileBytes });
  if (found.kind === "too_large") problems.push(`${sectionConfigPath} would be larger than ${maxConfigFileBytes / 1024 / 1024} MiB`);
  else if (found.kind !== "file") problems.push(`${sectionConfigPath} is missing: every environment needs one`);
  else {
    try {
      checkConfigFile(sectionConfigPath, found.content.toString());
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push(error.message);
    }
  }
  return problems;
}
