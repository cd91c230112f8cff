import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { simpleGit, type SimpleGit } from "simple-git";
import { isolatedGitEnvironment, startGit } from "./git-processes.ts";
import { leftoverName, parseLeftover, type Leftover } from "./leftovers.ts";
import { ObjectReader } from "./object-reader.ts";
import { asText, controlCharacterProblem, maxTextFileBytes, treeModeProblem, treePathProblem } from "./tree-rules.ts";
import { BranchLocked, lockFiles, readBranchHead, readBranchHeads, readHeadTarget, removeStaleLock, writeBranchHead } from "./refs.ts";

/** Who a commit is by: the acting user. */
export interface CommitAuthor {
  name: string;
  email: string;
}

/** A file of a branch. */
export interface TreeFile {
  path: string;
  /** In bytes. */
  size: number;
}

/** One commit as a log shows it. */
export interface CommitSummary {
  sha: string;
  authorName: string;
  authorEmail: string;
  authoredAt: Date;
  /** The first line of the message. */
  subject: string;
}

/** The files a change touches and its unified diff. */
export interface BranchDiff {
  /** `status` is git's letter: A added, M modified, D deleted, R renamed (from `previousPath`), T type changed. */
  files: Array<{ status: string; path: string; previousPath?: string }>;
  patch: string;
  /** True when the diff is longer than `maxTextFileBytes` and `patch` holds only its first whole lines. */
  patchCut: boolean;
}

/** How a merge of one branch into another would go; `head` is the target's head it was planned on. */
/** How `from` merges into `to`: `head` is `to`'s head and `source` `from`'s, as the plan read them. */
export type MergePlan = { head: string; source: string } & (
  | { kind: "up_to_date" }
  | { kind: "fast_forward"; commit: string }
  | { kind: "merge"; commit: string }
  | { kind: "conflict"; files: string[] }
);

/** A branch was not where a change expected it: someone else moved it first. */
export class BranchMoved extends Error {
  constructor(readonly branch: string) {
    super(`branch ${branch} moved`);
    this.name = "BranchMoved";
  }
}

/** A repository moved aside by `setAside`: put it back, or delete it for good. */
export interface SetAsideRepository {
  restore(): Promise<void>;
  discard(): Promise<void>;
}

/** A repository built under a temporary name by `prepare`: moved into place once its application is committed, or removed. */
export interface PreparedRepository {
  install(): Promise<void>;
  discard(): Promise<void>;
}

/** What GIT_ROOT holds: the applications' repositories, and the temporary ones of creations and deletions. */
export interface GitRootSurvey {
  /** The application ids of the `<id>.git` repositories. */
  repositories: number[];
  leftovers: Leftover[];
}

/** Where repositories nobody owns are moved to, never deleted: `GIT_ROOT/.orphaned/<name>-<time>`. */
export const orphanedDirectory = ".orphaned";

const branchName = /^[a-z][a-z0-9-]{0,30}$/;
/** A path inside a repository: no leading slash or dash, no empty, `.` or `..` segment, so it stays inside and never reads as an option. */
export const filePath = /^(?![/-])(?!.*(^|\/)\.\.?(\/|$))(?!.*\/\/)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;
const commitId = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The bare git repositories of applications, one per application under one root.
 * Branch names and paths are checked here too, so no user text reaches git as an option.
 */
export class Repositories {
  /** Files read at commits (`findFileAtHead`), by commit and path: null for none. A commit never changes, so neither does this. */
  private readonly filesAtCommits = new Map<string, Buffer | null>();

  constructor(readonly root: string) {}

  pathOf(applicationId: number): string {
    if (!Number.isSafeInteger(applicationId) || applicationId <= 0) {
      throw new Error(`invalid application id ${applicationId}`);
    }
    return path.join(this.root, `${applicationId}.git`);
  }

  async exists(applicationId: number): Promise<boolean> {
    return stat(this.pathOf(applicationId)).then(
      (info) => info.isDirectory(),
      () => false,
    );
  }

  /**
   * Builds the application's bare repository, with one commit on `branch`, under a temporary
   * name (see leftovers.ts). `install` moves it to `<id>.git`, which a creation does only
   * after its transaction has committed: a repository in place always has its application.
   */
  async prepare(
    applicationId: number,
    initial: { branch: string; files: Record<string, string>; message: string; author: CommitAuthor },
  ): Promise<PreparedRepository> {
    assertBranch(initial.branch);
    for (const name of Object.keys(initial.files)) assertPath(name);
    this.pathOf(applicationId); // refuses an id that is not one
    await mkdir(this.root, { recursive: true });
    const repository = path.join(this.root, leftoverName("creating", applicationId));
    await mkdir(repository);
    // The index lives beside the work tree, not in it: `add --all` would commit its lock file.
    const scratch = await mkdtemp(path.join(tmpdir(), "edgebot-init-"));
    const workTree = path.join(scratch, "tree");
    try {
      await mkdir(workTree);
      await this.git(repository).raw(["init", "--bare", `--initial-branch=${initial.branch}`]);
      for (const [name, content] of Object.entries(initial.files)) {
        await mkdir(path.dirname(path.join(workTree, name)), { recursive: true });
        await writeFile(path.join(workTree, name), content);
      }
      const git = this.git(workTree, {
        GIT_DIR: repository,
        GIT_WORK_TREE: workTree,
        GIT_INDEX_FILE: path.join(scratch, "index"),
        ...authorEnvironment(initial.author),
      });
      await git.raw(["add", "--verbose", "--all", "--", "."]);
      await git.raw(["commit", "--no-verify", "-m", initial.message]);
    } catch (error) {
      await rm(repository, { recursive: true, force: true });
      throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    return {
      install: () => this.moveIntoPlace(path.basename(repository), applicationId),
      discard: () => rm(repository, { recursive: true, force: true }),
    };
  }

  /**
   * Builds application `applicationId`'s repository as a copy of application `fromId`'s branch
   * `branch` with its whole history, under a temporary name like `prepare`: no other branch, no
   * tag, no link back to the original. `install` moves it into place once the copy's application
   * is committed.
   */
  async prepareCopy(fromId: number, applicationId: number, branch: string): Promise<PreparedRepository> {
    assertBranch(branch);
    const source = this.pathOf(fromId);
    this.pathOf(applicationId); // refuses an id that is not one
    await mkdir(this.root, { recursive: true });
    const name = leftoverName("creating", applicationId);
    const repository = path.join(this.root, name);
    try {
      // --no-local: objects go through git's transport, never hard-linked, so the two share nothing on disk.
      await runGitProcess(["clone", "--bare", "--no-local", "--single-branch", `--branch=${branch}`, "--no-tags", "--quiet", "--", source, name], { cwd: this.root });
      const inCopy = { cwd: repository, env: { GIT_DIR: repository } };
      await runGitProcess(["config", "--remove-section", "remote.origin"], inCopy);
      await runGitProcess(["symbolic-ref", "HEAD", `refs/heads/${branch}`], inCopy);
    } catch (error) {
      await rm(repository, { recursive: true, force: true });
      throw error;
    }
    return {
      install: () => this.moveIntoPlace(name, applicationId),
      discard: () => rm(repository, { recursive: true, force: true }),
    };
  }

  /** Creates the application's repository and moves it into place at once (see `prepare`). */
  async create(
    applicationId: number,
    initial: { branch: string; files: Record<string, string>; message: string; author: CommitAuthor },
  ): Promise<void> {
    await (await this.prepare(applicationId, initial)).install();
  }

  /** Moves the repository out of the way so a transaction can still change its mind. */
  async setAside(applicationId: number): Promise<SetAsideRepository> {
    const repository = this.pathOf(applicationId);
    const aside = path.join(this.root, leftoverName("deleting", applicationId));
    await rename(repository, aside);
    return {
      restore: () => rename(aside, repository),
      discard: () => rm(aside, { recursive: true, force: true }),
    };
  }

  /**
   * What GIT_ROOT holds now. Read before the database when the two are compared: a repository
   * is moved into place only after its application is committed and moved away before its
   * deletion is, so one seen here has its application in the database read after, if any.
   */
  async survey(): Promise<GitRootSurvey> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    });
    const repositories: number[] = [];
    const leftovers: Leftover[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const id = /^([1-9]\d{0,15})\.git$/.exec(entry.name)?.[1];
      if (id !== undefined) repositories.push(Number(id));
      const leftover = parseLeftover(entry.name);
      if (leftover) leftovers.push(leftover);
    }
    return { repositories: repositories.sort((a, b) => a - b), leftovers };
  }

  /**
   * Moves a temporary repository (a finished creation, or a deletion that did not commit) to
   * `<id>.git`. Whatever was there already belongs to no application (the caller knows the
   * application has no repository) and is moved to `.orphaned` rather than replaced.
   */
  async moveIntoPlace(leftover: string, applicationId: number): Promise<void> {
    if (await this.exists(applicationId)) await this.orphan(path.basename(this.pathOf(applicationId)));
    await rename(this.entry(leftover), this.pathOf(applicationId));
  }

  /** Deletes a temporary repository for good. */
  async removeLeftover(leftover: string): Promise<void> {
    await rm(this.entry(leftover), { recursive: true, force: true });
  }

  /**
   * Moves an entry of GIT_ROOT nobody owns to `.orphaned/<name>-<time>` (without its leading dot,
   * so it shows) and answers where, relative to GIT_ROOT; undefined when it was gone already.
   */
  async orphan(name: string): Promise<string | undefined> {
    const from = this.entry(name);
    const time = new Date().toISOString().replace(/[:.]/g, "-");
    const to = path.join(orphanedDirectory, `${name.replace(/^\.+/, "")}-${time}`);
    await mkdir(path.join(this.root, orphanedDirectory), { recursive: true });
    try {
      await rename(from, path.join(this.root, to));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return to;
  }

  /**
   * Removes the lock files of the repository that writers which crashed left behind (older than
   * a minute; see `removeStaleLock`), and answers which, relative to the repository.
   */
  async removeStaleLocks(applicationId: number): Promise<string[]> {
    const repository = this.pathOf(applicationId);
    const removed: string[] = [];
    for (const lock of lockFiles(repository)) if (await removeStaleLock(path.join(repository, lock))) removed.push(lock);
    return removed;
  }

  // An entry directly in GIT_ROOT, by a name the caller got from `survey`.
  private entry(name: string): string {
    if (name === "" || name === "." || name === ".." || name.includes("/") || name === orphanedDirectory) throw new Error(`refusing entry ${JSON.stringify(name)}`);
    return path.join(this.root, name);
  }

  /** The commit a branch points at. */
  async head(applicationId: number, branch: string): Promise<string> {
    const sha = await this.findHead(applicationId, branch);
    if (sha === undefined) throw new Error(`branch ${branch} does not exist`);
    return sha;
  }

  /** The commit a branch points at, or undefined when there is no such branch. */
  async findHead(applicationId: number, branch: string): Promise<string | undefined> {
    assertBranch(branch);
    return readBranchHead(this.pathOf(applicationId), branch);
  }

  /**
   * What a clone is told the repository holds: every branch with its commit, and the branch
   * `HEAD` names (with its commit, or none while that branch does not exist).
   */
  async advertisedRefs(applicationId: number): Promise<{ head: { target: string; commit: string | undefined } | undefined; branches: Map<string, string> }> {
    const repository = this.pathOf(applicationId);
    const target = readHeadTarget(repository);
    const branches = readBranchHeads(repository);
    return { head: target === undefined ? undefined : { target, commit: branches.get(target) }, branches };
  }

  /**
   * Points a new branch at the head of `from`. An existing branch of that name is
   * overwritten: callers hold the database row that makes the name theirs.
   */
  async createBranch(applicationId: number, branch: string, from: string): Promise<void> {
    assertBranch(branch);
    assertBranch(from);
    const repository = this.pathOf(applicationId);
    const head = readBranchHead(repository, from);
    if (head === undefined) throw new Error(`branch ${from} does not exist`);
    await writeBranchHead(repository, branch, head);
  }

  /** Deletes a branch and returns the commit it pointed at; undefined when it was already gone. */
  async deleteBranch(applicationId: number, branch: string): Promise<string | undefined> {
    const sha = await this.findHead(applicationId, branch);
    if (sha === undefined) return undefined;
    await this.git(this.pathOf(applicationId), tracedSoNotSilent).raw(["update-ref", "-d", `refs/heads/${branch}`, sha]);
    return sha;
  }

  async branches(applicationId: number): Promise<string[]> {
    const heads = readBranchHeads(this.pathOf(applicationId));
    return [...heads.keys()].map((ref) => ref.slice("refs/heads/".length)).sort();
  }

  /** Reads one file at the head of a branch. */
  async readFile(applicationId: number, branch: string, file: string): Promise<string> {
    assertBranch(branch);
    assertPath(file);
    return this.git(this.pathOf(applicationId)).raw(["show", `refs/heads/${branch}:${file}`]);
  }

  /** The files of a branch's head, with their sizes in bytes, in path order. */
  async files(applicationId: number, branch: string): Promise<TreeFile[]> {
    assertBranch(branch);
    const output = await this.git(this.pathOf(applicationId)).raw(["ls-tree", "-r", "-l", "-z", `refs/heads/${branch}`]);
    return parseTree(output).map(({ path: file, size }) => ({ path: file, size }));
  }

  /** Every file at the head of a branch, by path, as text. */
  async filesAt(applicationId: number, branch: string): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const { path: file } of await this.files(applicationId, branch)) files[file] = await this.readFile(applicationId, branch, file);
    return files;
  }

  /**
   * What a commit holds at a path: a file with its bytes, a directory, or nothing. `quarantine`
   * is where git keeps a push's objects until its pre-receive hook accepts it
   * (`GIT_QUARANTINE_PATH`): a commit being pushed is only found there.
   */
  async findFileAt(
    applicationId: number,
    commit: string,
    file: string,
    options: {
      quarantine?: string;
      /** A larger file is not read: its size is answered instead. */
      maxBytes?: number;
    } = {},
  ): Promise<{ kind: "file"; content: Buffer } | { kind: "too_large"; size: number } | { kind: "directory" } | { kind: "missing" }> {
    assertCommit(commit);
    assertPath(file);
    const repository = this.pathOf(applicationId);
    const objects = options.quarantine === undefined ? {} : quarantineEnvironment(repository, options.quarantine);
    // Traced: ls-tree prints nothing for a missing file.
    const git = this.git(repository, { ...tracedSoNotSilent, ...objects });
    const [entry] = parseTree(await git.raw(["ls-tree", "-l", "-z", commit, "--", file]));
    if (entry === undefined || entry.path !== file) return { kind: "missing" };
    if (entry.type === "tree") return { kind: "directory" };
    if (options.maxBytes !== undefined && !(entry.size <= options.maxBytes)) return { kind: "too_large", size: entry.size };
    // As bytes: a file need not be text.
    return { kind: "file", content: (await git.binaryCatFile(["blob", entry.sha])) as Buffer };
  }

  /**
   * A file at the head of a branch, as bytes; undefined when the repository, the branch or the
   * file is not there, or the file is larger than `maxBytes`. The head is read from the ref
   * files; the file through one `git cat-file` (commit, trees, blob) the first time its commit
   * is asked about, and from memory after: a read that is asked often (what `app show` shows)
   * starts no git process while the branch stays where it is.
   */
  async findFileAtHead(applicationId: number, branch: string, file: string, options: { maxBytes: number }): Promise<Buffer | undefined> {
    assertBranch(branch);
    assertPath(file);
    const repository = this.pathOf(applicationId);
    const head = readBranchHead(repository, branch);
    if (head === undefined) return undefined;
    const key = `${head}:${options.maxBytes}:${file}`;
    const known = this.filesAtCommits.get(key);
    if (known !== undefined) return known ?? undefined;
    const reader = new ObjectReader(repository, { GIT_DIR: repository });
    let found: Buffer | null = null;
    try {
      const commit = await reader.read(head);
      if (commit === undefined || commit.type !== "commit") throw new Error(`commit ${head} not found`);
      let id: string | undefined = parseCommitObject(commit.content).tree;
      for (const name of file.split("/")) {
        const tree: Awaited<ReturnType<ObjectReader["read"]>> = id === undefined ? undefined : await reader.read(id);
        id = tree?.type === "tree" ? parseTreeObject(tree.content, head.length / 2).find((entry) => entry.name === name)?.id : undefined;
      }
      const info = id === undefined ? undefined : await reader.info(id);
      if (id !== undefined && info?.type === "blob" && info.size <= options.maxBytes) found = (await reader.read(id))?.content ?? null;
    } finally {
      reader.close();
    }
    // Bounded: the oldest entry goes first.
    if (this.filesAtCommits.size >= 1000) this.filesAtCommits.delete(this.filesAtCommits.keys().next().value!);
    this.filesAtCommits.set(key, found);
    return found ?? undefined;
  }

  /**
   * What is wrong with the commits `tip` brings that no branch holds yet (a push's, or a merge
   * commit not yet on its branch), by the rules of tree-rules.ts: every path of every such
   * commit's tree, every entry's mode, every commit message and every text file up to
   * `maxTextFileBytes` (larger files are never shown as text). Empty when all is well; at most
   * `limit` problems, each naming the path or commit.
   */
  async reviewNewCommits(applicationId: number, tip: string, options: { quarantine?: string; limit?: number } = {}): Promise<string[]> {
    assertCommit(tip);
    const repository = this.pathOf(applicationId);
    const objects = options.quarantine === undefined ? {} : quarantineEnvironment(repository, options.quarantine);
    const limit = options.limit ?? 10;
    const commits = (await this.git(repository, { ...tracedSoNotSilent, ...objects }).raw(["rev-list", tip, "--not", "--all"])).split("\n").filter(Boolean);
    const problems: string[] = [];
    const reader = new ObjectReader(repository, { GIT_DIR: repository, ...objects });
    const seenTrees = new Set<string>();
    const seenBlobs = new Set<string>();
    const hashBytes = tip.length / 2;

    const walk = async (tree: string, prefix: string): Promise<void> => {
      if (seenTrees.has(tree) || problems.length >= limit) return;
      seenTrees.add(tree);
      const object = await reader.read(tree);
      if (object === undefined || object.type !== "tree") throw new Error(`tree ${tree} not found`);
      for (const entry of parseTreeObject(object.content, hashBytes)) {
        if (problems.length >= limit) return;
        const where = `${prefix}${entry.name ?? "(a name that is not UTF-8)"}`;
        const problem = entry.name === undefined ? "is not UTF-8" : (treePathProblem(entry.name) ?? treeModeProblem(entry.mode));
        if (problem !== undefined) problems.push(`${where}: ${problem}`);
        else if (entry.mode === "40000") await walk(entry.id, `${where}/`);
        else if (!seenBlobs.has(entry.id)) {
          seenBlobs.add(entry.id);
          const info = await reader.info(entry.id);
          if (info === undefined || info.size > maxTextFileBytes) continue;
          const text = asText((await reader.read(entry.id))!.content);
          const textProblem = text === undefined ? undefined : controlCharacterProblem(text);
          if (textProblem !== undefined) problems.push(`${where}: ${textProblem}`);
        }
      }
    };

    try {
      for (const commit of commits) {
        if (problems.length >= limit) break;
        const object = await reader.read(commit);
        if (object === undefined || object.type !== "commit") throw new Error(`commit ${commit} not found`);
        const { tree, message } = parseCommitObject(object.content);
        const messageProblem = message === undefined ? "is not UTF-8" : controlCharacterProblem(message);
        if (messageProblem !== undefined) problems.push(`commit ${commit.slice(0, 7)}: its message ${messageProblem}`);
        await walk(tree, "");
      }
    } finally {
      reader.close();
    }
    return problems;
  }

  /** The newest commits of a branch, newest first. */
  async log(applicationId: number, branch: string, limit: number): Promise<CommitSummary[]> {
    assertBranch(branch);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`invalid limit ${limit}`);
    const output = await this.git(this.pathOf(applicationId)).raw(["log", "-z", `--max-count=${limit}`, "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s", `refs/heads/${branch}`, "--"]);
    return output
      .split("\0")
      .filter((record) => record.trim() !== "")
      .map((record) => {
        const [sha, authorName, authorEmail, authoredAt, subject] = record.replace(/^\n/, "").split("\x1f");
        return { sha: sha!, authorName: authorName!, authorEmail: authorEmail!, authoredAt: new Date(authoredAt!), subject: subject ?? "" };
      });
  }

  /**
   * Writes a commit on top of `base` in which `file` holds `content`, without a work tree and
   * without moving any branch (see `moveBranch`). Nothing is written when the file already
   * holds it, or when the path clashes with a directory (or sits under a file) of the base.
   */
  async commitFile(
    applicationId: number,
    change: { base: string; file: string; content: string; message: string; author: CommitAuthor },
  ): Promise<{ kind: "committed"; commit: string } | { kind: "unchanged" } | { kind: "path_taken" }> {
    assertCommit(change.base);
    assertPath(change.file);
    const repository = this.pathOf(applicationId);
    // The file and every directory above it, as the base holds them, in one ls-tree: a path
    // under a file (`a/b` where `a` is a file) shows that file.
    const prefixes = change.file.split("/").map((_, index, parts) => parts.slice(0, index + 1).join("/"));
    // ls-tree also lists what else is in those directories; only the named paths count.
    const entries = parseTree(await this.git(repository, tracedSoNotSilent).raw(["ls-tree", "-z", change.base, "--", ...prefixes])).filter((entry) => prefixes.includes(entry.path));
    const existing = entries.find((entry) => entry.path === change.file);
    if (entries.some((entry) => entry.path !== change.file && entry.type !== "tree")) return { kind: "path_taken" };
    if (existing !== undefined && existing.type !== "blob") return { kind: "path_taken" };
    if (existing?.sha === blobId(change.content)) return { kind: "unchanged" };
    // Git processes are most of an edit's time, so one fast-import writes the file and the
    // commit and prints the commit's id. Its ref is reset before the end, so no ref is written:
    // the commit is reachable only once moveBranch points the environment at it.
    const when = `${Math.floor(Date.now() / 1000)} +0000`;
    // Names and emails are checked where people are registered; what would end the line is dropped here too.
    const person = `${identityPart(change.author.name)} <${identityPart(change.author.email)}> ${when}`;
    const stream = [
      "commit refs/edgebot/edit\nmark :1\n",
      `author ${person}\ncommitter ${person}\n`,
      data(`${change.message}\n`),
      `from ${change.base}\n`,
      `M ${existing?.mode === "100755" ? "100755" : "100644"} inline ${change.file}\n`,
      data(change.content),
      "\nget-mark :1\nreset refs/edgebot/edit\n\ndone\n",
    ];
    const input = Buffer.concat(stream.map((part) => (typeof part === "string" ? Buffer.from(part) : part)));
    const commit = (await this.runGit(repository, ["fast-import", "--quiet", "--done"], { input })).output.toString().trim();
    assertCommit(commit);
    return { kind: "committed", commit };
  }

  /**
   * Moves a branch from `expected` to `commit`, only if it still points at `expected`: of two
   * changes made from the same head, the second finds the branch moved and changes nothing.
   */
  async moveBranch(applicationId: number, branch: string, commit: string, expected: string): Promise<void> {
    assertBranch(branch);
    assertCommit(commit);
    assertCommit(expected);
    let moved: boolean;
    try {
      moved = await writeBranchHead(this.pathOf(applicationId), branch, commit, expected);
    } catch (error) {
      // Another update holds the branch this instant: it will not be at `expected` after it.
      if (error instanceof BranchLocked) throw new BranchMoved(branch);
      throw error;
    }
    if (!moved) throw new BranchMoved(branch);
  }

  /**
   * What `from` brings to `to`: the files changed on `from` since the two last met (their
   * merge base) and the unified diff, as `git diff --merge-base to from` shows them.
   */
  async diff(applicationId: number, to: string, from: string): Promise<BranchDiff> {
    assertBranch(to);
    assertBranch(from);
    const git = this.git(this.pathOf(applicationId));
    const range = ["--merge-base", `refs/heads/${to}`, `refs/heads/${from}`, "--"];
    const [names, patch] = await Promise.all([
      git.raw(["diff", "--no-ext-diff", "--no-color", "--find-renames", "--name-status", "-z", ...range]),
      // A diff is shown, like a file: no more of it is read than a file may hold.
      this.runGit(this.pathOf(applicationId), ["diff", "--no-ext-diff", "--no-color", "--find-renames", "--patch", ...range], { maxOutputBytes: maxTextFileBytes }),
    ]);
    if (!patch.cut) return { files: parseNameStatus(names), patch: patch.output.toString(), patchCut: false };
    const lastLine = patch.output.lastIndexOf(10);
    return { files: parseNameStatus(names), patch: patch.output.subarray(0, lastLine + 1).toString(), patchCut: true };
  }

  /**
   * How `from` would be merged into `to`, computed without a work tree: already contained,
   * a fast-forward, a merge commit written by `author` (no branch moves), or the files in conflict.
   */
  async planMerge(applicationId: number, merge: { from: string; to: string; message: string; author: CommitAuthor }): Promise<MergePlan> {
    const repository = this.pathOf(applicationId);
    assertBranch(merge.to);
    assertBranch(merge.from);
    const [ours, theirs] = [readBranchHead(repository, merge.to), readBranchHead(repository, merge.from)];
    if (ours === undefined || theirs === undefined) throw new Error(`branch ${merge.to} or ${merge.from} does not exist`);
    if (ours === theirs) return { kind: "up_to_date", head: ours, source: theirs };
    const git = this.git(repository);
    // No output (exit 1) when the two share no history: merge-tree then refuses the merge below.
    const base = (await git.raw(["merge-base", ours, theirs])).trim();
    if (base === theirs) return { kind: "up_to_date", head: ours, source: theirs };
    if (base === ours) return { kind: "fast_forward", head: ours, source: theirs, commit: theirs };
    // merge-tree exits 1 on conflict with nothing on stderr, which simple-git does not raise:
    // the conflicted paths, listed after the tree, are what tell.
    const output = await git.raw(["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs]);
    const [tree, ...conflicted] = output.split("\0").filter(Boolean);
    if (tree === undefined || !/^[0-9a-f]{40,64}$/.test(tree)) throw new Error(`git merge-tree answered ${JSON.stringify(output.slice(0, 200))}`);
    if (conflicted.length > 0) return { kind: "conflict", head: ours, source: theirs, files: [...new Set(conflicted)].sort() };
    const commit = await writeCommit(repository, { tree, parents: [ours, theirs], message: merge.message, author: merge.author });
    return { kind: "merge", head: ours, source: theirs, commit };
  }

  /**
   * Runs git in a bare repository, with `input` on its standard input (which simple-git cannot
   * give), reading at most `maxOutputBytes` of its output: git is stopped there, and `cut` says so.
   */
  private async runGit(repository: string, args: string[], options: { input?: Buffer; maxOutputBytes?: number } = {}): Promise<{ output: Buffer; cut: boolean }> {
    const maxBytes = options.maxOutputBytes ?? Infinity;
    const git = startGit(args, { cwd: repository, env: { GIT_DIR: repository } });
    const output: Buffer[] = [];
    let length = 0;
    let cut = false;
    git.stdout.on("data", (chunk: Buffer) => {
      if (cut) return;
      output.push(chunk);
      length += chunk.length;
      if (length > maxBytes) {
        cut = true;
        git.kill();
      }
    });
    git.stdin.end(options.input);
    const { code, stderr } = await git.ended;
    if (cut) return { output: Buffer.concat(output).subarray(0, maxBytes), cut };
    if (code === 0) return { output: Buffer.concat(output), cut };
    throw new Error(stderr.trim() || `git ${args[0]} exited with ${code}`);
  }

  private git(baseDir: string, env: Record<string, string> = {}): SimpleGit {
    const environment = { ...isolatedGitEnvironment(), ...env };
    // Every GIT_* value here is set by edgebot itself, never taken from user input.
    return simpleGit({
      baseDir,
      maxConcurrentProcesses: 8,
      allowEnvironment: Object.keys(environment).filter((key) => key.startsWith("GIT_")),
      unsafe: { allowUnsafeConfigPaths: true },
    }).env(environment);
  }

  /**
   * Housekeeping, as git's own `gc` does it: loose objects (every edit and merge writes some)
   * packed, unreachable ones pruned after git's two-week grace, and the commit-graph written,
   * which spares merge-base and merge-tree from reading every commit. Refs are left loose, so
   * no branch is locked by it.
   */
  async maintain(applicationId: number): Promise<void> {
    await this.git(this.pathOf(applicationId), tracedSoNotSilent).raw(["-c", "gc.packRefs=false", "-c", "gc.writeCommitGraph=true", "gc", "--quiet"]);
  }

  /** The commits `after` has and `before` has not: how many, and the newest `limit` (sha, subject). */
  async commitsBetween(applicationId: number, before: string, after: string, limit: number): Promise<{ count: number; commits: Array<{ sha: string; subject: string }> }> {
    assertCommit(after);
    const range = /^0+$/.test(before) ? [after] : (assertCommit(before), [after, `^${before}`]);
    const git = this.git(this.pathOf(applicationId));
    const count = Number((await git.raw(["rev-list", "--count", ...range])).trim());
    if (count === 0) return { count, commits: [] };
    const log = await git.raw(["log", `--max-count=${Math.max(1, Math.floor(limit))}`, "--format=%H%x09%s", ...range, "--"]);
    const commits = log
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf("\t");
        return { sha: line.slice(0, tab), subject: line.slice(tab + 1) };
      });
    return { count, commits };
  }
}

/** Runs a git command that writes nothing worth reading, throwing its stderr when it fails. */
async function runGitProcess(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<void> {
  const git = startGit(args, options);
  git.stdin.end();
  git.stdout.resume();
  const { code, stderr } = await git.ended;
  if (code !== 0) throw new Error(stderr.trim() || `git ${args[0]} exited with ${code}`);
}

// simple-git waits 50 ms after any git process that writes nothing, to be sure its output
// is complete. Commands here are run so that they report: init, add and commit say what
// they did, and update-ref, silent by nature, writes its trace line to stderr.
const tracedSoNotSilent = { GIT_TRACE: "1" };

function assertBranch(branch: string): void {
  if (!branchName.test(branch)) throw new Error(`refusing branch name ${JSON.stringify(branch)}`);
}

function assertCommit(commit: string): void {
  if (!commitId.test(commit)) throw new Error(`refusing commit id ${JSON.stringify(commit)}`);
}

// Git's quarantine for a push in progress: a tmp_objdir-incoming-* directory in the repository's objects.
function quarantineEnvironment(repository: string, quarantine: string): Record<string, string> {
  const objects = path.join(repository, "objects");
  const resolved = path.resolve(quarantine);
  if (path.dirname(resolved) !== objects || !/^tmp_objdir-incoming-[A-Za-z0-9_-]+$/.test(path.basename(resolved))) {
    throw new Error("the quarantine is not in this repository");
  }
  return { GIT_OBJECT_DIRECTORY: resolved, GIT_ALTERNATE_OBJECT_DIRECTORIES: objects };
}

function assertPath(file: string): void {
  if (!filePath.test(file) || treePathProblem(file) !== undefined) throw new Error(`refusing path ${JSON.stringify(file)}`);
}

function authorEnvironment(author: CommitAuthor): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

/** Reads `git ls-tree -z` output (with or without `-l`). */
function parseTree(output: string): Array<{ mode: string; type: string; sha: string; size: number; path: string }> {
  return output
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode, type, sha, size] = line.slice(0, tab).trim().split(/\s+/);
      return { mode: mode!, type: type!, sha: sha!, size: Number(size ?? Number.NaN), path: line.slice(tab + 1) };
    });
}

/** Reads `git diff --name-status -z`: a status, then one path, or two for a rename or copy. */
function parseNameStatus(output: string): BranchDiff["files"] {
  const fields = output.split("\0").filter((field) => field !== "");
  const files: BranchDiff["files"] = [];
  for (let index = 0; index < fields.length; ) {
    const status = fields[index]!.charAt(0);
    if (status === "R" || status === "C") {
      files.push({ status, previousPath: fields[index + 1]!, path: fields[index + 2]! });
      index += 3;
    } else {
      files.push({ status, path: fields[index + 1]! });
      index += 2;
    }
  }
  return files;
}

/**
 * Writes a commit object into the repository as git would (a zlib-deflated loose object named by
 * its SHA-1) and returns its id. A merge's commit is the one object git has no cheaper way to
 * write than a process of its own (`commit-tree`), and a process is most of a promotion's time.
 * The repositories edgebot creates use SHA-1 object names, which the tree's id confirms.
 */
async function writeCommit(repository: string, commit: { tree: string; parents: string[]; message: string; author: CommitAuthor }): Promise<string> {
  if (!/^[0-9a-f]{40}$/.test(commit.tree) || !commit.parents.every((parent) => /^[0-9a-f]{40}$/.test(parent))) {
    throw new Error("only repositories with SHA-1 object names are supported");
  }
  const person = `${identityPart(commit.author.name)} <${identityPart(commit.author.email)}> ${Math.floor(Date.now() / 1000)} +0000`;
  const message = commit.message.endsWith("\n") ? commit.message : `${commit.message}\n`;
  const body = Buffer.from(
    [`tree ${commit.tree}`, ...commit.parents.map((parent) => `parent ${parent}`), `author ${person}`, `committer ${person}`, "", message].join("\n"),
  );
  const object = Buffer.concat([Buffer.from(`commit ${body.length}\0`), body]);
  const id = createHash("sha1").update(object).digest("hex");
  const directory = path.join(repository, "objects", id.slice(0, 2));
  const file = path.join(directory, id.slice(2));
  // Written under a temporary name and renamed into place, so no reader sees half an object.
  await mkdir(directory, { recursive: true });
  const temporary = path.join(directory, `tmp_obj_${randomBytes(8).toString("hex")}`);
  await writeFile(temporary, deflateSync(object), { mode: 0o444, flag: "wx" });
  await rename(temporary, file);
  return id;
}

/** A name or email as a line of a commit holds it: without angle brackets or control characters. */
function identityPart(text: string): string {
  return text.replace(/[<>\p{Cc}]/gu, "").trim();
}

/** A fast-import `data` block: the byte count, then the bytes. */
function data(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from("\n")]);
}

/** The id git gives a file's content (SHA-1 of its blob object), to see an edit that changes nothing without running git. */
function blobId(content: string): string {
  const bytes = Buffer.from(content);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The entries of a raw tree object: `<mode> <name>\0<id bytes>` one after another; a name that is not UTF-8 is undefined. */
function parseTreeObject(content: Buffer, hashBytes: number): Array<{ mode: string; name: string | undefined; id: string }> {
  const entries = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (let at = 0; at < content.length; ) {
    const space = content.indexOf(32, at);
    const nul = content.indexOf(0, space);
    if (space === -1 || nul === -1 || nul + 1 + hashBytes > content.length) throw new Error("malformed tree object");
    let name: string | undefined;
    try {
      name = decoder.decode(content.subarray(space + 1, nul));
    } catch {
      name = undefined;
    }
    entries.push({ mode: content.subarray(at, space).toString("latin1"), name, id: content.subarray(nul + 1, nul + 1 + hashBytes).toString("hex") });
    at = nul + 1 + hashBytes;
  }
  return entries;
}

/** A raw commit object's tree and message (undefined when the message is not UTF-8). */
function parseCommitObject(content: Buffer): { tree: string; message: string | undefined } {
  const tree = /^tree ([0-9a-f]{40,64})\n/.exec(content.subarray(0, 80).toString("latin1"))?.[1];
  if (tree === undefined) throw new Error("malformed commit object");
  const end = content.indexOf("\n\n");
  const message = end === -1 ? "" : asText(content.subarray(end + 2));
  return { tree, message };
}
