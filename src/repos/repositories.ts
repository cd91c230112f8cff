import { mkdtemp, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";

/** Who a commit is by: the acting user. */
export interface CommitAuthor {
  name: string;
  email: string;
}

/** A repository moved aside by `setAside`: put it back, or delete it for good. */
export interface SetAsideRepository {
  restore(): Promise<void>;
  discard(): Promise<void>;
}

const branchName = /^[a-z][a-z0-9-]{0,30}$/;
const filePath = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]{1,200}$/;

/**
 * The bare git repositories of applications, one per application under one root.
 * Branch names and paths are checked here too, so no user text reaches git as an option.
 */
export class Repositories {
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
   * Creates the application's bare repository with one commit on `branch`. A leftover
   * directory of the same id (from a crash) is replaced: the id is new in the database.
   */
  async create(
    applicationId: number,
    initial: { branch: string; files: Record<string, string>; message: string; author: CommitAuthor },
  ): Promise<void> {
    assertBranch(initial.branch);
    for (const name of Object.keys(initial.files)) assertPath(name);
    const repository = this.pathOf(applicationId);
    await mkdir(this.root, { recursive: true });
    await rm(repository, { recursive: true, force: true });
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
  }

  /** Deletes the repository and everything in it. */
  async remove(applicationId: number): Promise<void> {
    await rm(this.pathOf(applicationId), { recursive: true, force: true });
  }

  /** Moves the repository out of the way so a transaction can still change its mind. */
  async setAside(applicationId: number): Promise<SetAsideRepository> {
    const repository = this.pathOf(applicationId);
    const aside = path.join(this.root, `.deleting-${applicationId}-${process.pid}-${Date.now()}`);
    await rename(repository, aside);
    return {
      restore: () => rename(aside, repository),
      discard: () => rm(aside, { recursive: true, force: true }),
    };
  }

  /** Removes repositories a crash left set aside between a deletion's commit and its cleanup. */
  async removeLeftovers(): Promise<string[]> {
    const entries = await readdir(this.root).catch(() => [] as string[]);
    const leftovers = entries.filter((name) => name.startsWith(".deleting-"));
    for (const name of leftovers) await rm(path.join(this.root, name), { recursive: true, force: true });
    return leftovers;
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
    const sha = (await this.git(this.pathOf(applicationId)).raw(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`])).trim();
    // With --quiet git reports a missing branch only by its exit code, which simple-git does not raise.
    return sha === "" ? undefined : sha;
  }

  /**
   * Points a new branch at the head of `from`. An existing branch of that name is
   * overwritten: callers hold the database row that makes the name theirs.
   */
  async createBranch(applicationId: number, branch: string, from: string): Promise<void> {
    assertBranch(branch);
    assertBranch(from);
    await this.git(this.pathOf(applicationId), tracedSoNotSilent).raw(["update-ref", `refs/heads/${branch}`, `refs/heads/${from}`]);
  }

  /** Points a branch at a given commit (used to undo a deletion). */
  async setBranch(applicationId: number, branch: string, sha: string): Promise<void> {
    assertBranch(branch);
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new Error("invalid commit id");
    await this.git(this.pathOf(applicationId), tracedSoNotSilent).raw(["update-ref", `refs/heads/${branch}`, sha]);
  }

  /** Deletes a branch and returns the commit it pointed at; undefined when it was already gone. */
  async deleteBranch(applicationId: number, branch: string): Promise<string | undefined> {
    const sha = await this.findHead(applicationId, branch);
    if (sha === undefined) return undefined;
    await this.git(this.pathOf(applicationId), tracedSoNotSilent).raw(["update-ref", "-d", `refs/heads/${branch}`, sha]);
    return sha;
  }

  async branches(applicationId: number): Promise<string[]> {
    const output = await this.git(this.pathOf(applicationId)).raw(["for-each-ref", "--format=%(refname:short)", "refs/heads/"]);
    return output.split("\n").filter(Boolean).sort();
  }

  /** Every file at the head of a branch, by path, as text. */
  async filesAt(applicationId: number, branch: string): Promise<Record<string, string>> {
    assertBranch(branch);
    const git = this.git(this.pathOf(applicationId));
    const listing = await git.raw(["ls-tree", "-r", "-z", "--name-only", "--full-tree", `refs/heads/${branch}`]);
    const files: Record<string, string> = {};
    for (const name of listing.split("\0").filter(Boolean)) {
      assertPath(name);
      files[name] = await git.raw(["show", `refs/heads/${branch}:${name}`]);
    }
    return files;
  }

  /** Reads one file at the head of a branch. */
  async readFile(applicationId: number, branch: string, file: string): Promise<string> {
    assertBranch(branch);
    assertPath(file);
    return this.git(this.pathOf(applicationId)).raw(["show", `refs/heads/${branch}:${file}`]);
  }

  private git(baseDir: string, env: Record<string, string> = {}): SimpleGit {
    const environment = { ...isolatedEnvironment(), ...env };
    // Every GIT_* value here is set by edgebot itself, never taken from user input.
    return simpleGit({
      baseDir,
      maxConcurrentProcesses: 8,
      allowEnvironment: Object.keys(environment).filter((key) => key.startsWith("GIT_")),
      unsafe: { allowUnsafeConfigPaths: true },
    }).env(environment);
  }

  /**
   * Reads one file at a commit, or undefined when the commit has no such file. `quarantine` is
   * where git keeps a push's objects until its pre-receive hook accepts it (`GIT_QUARANTINE_PATH`):
   * a commit being pushed is only found there.
   */
  async readFileAtCommit(applicationId: number, commit: string, file: string, options: { quarantine?: string } = {}): Promise<string | undefined> {
    assertCommit(commit);
    assertPath(file);
    const repository = this.pathOf(applicationId);
    const env = options.quarantine === undefined ? {} : quarantineEnvironment(repository, options.quarantine);
    try {
      return await this.git(repository, env).raw(["cat-file", "blob", `${commit}:${file}`]);
    } catch (error) {
      if (/does not exist|not a valid object name|invalid object name|exists on disk|bad file/i.test(String((error as Error).message))) return undefined;
      throw error;
    }
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

// simple-git waits 50 ms after any git process that writes nothing, to be sure its output
// is complete. Commands here are run so that they report: init, add and commit say what
// they did, and update-ref, silent by nature, writes its trace line to stderr.
const tracedSoNotSilent = { GIT_TRACE: "1" };

function assertBranch(branch: string): void {
  if (!branchName.test(branch)) throw new Error(`refusing branch name ${JSON.stringify(branch)}`);
}

function assertCommit(commit: string): void {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error("invalid commit id");
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
  if (!filePath.test(file)) throw new Error(`refusing path ${JSON.stringify(file)}`);
}

// Git run by edgebot ignores the machine's and the user's git configuration and never prompts.
function isolatedEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
}

function authorEnvironment(author: CommitAuthor): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}
