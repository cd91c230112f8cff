import { startGit, type GitProcess } from "./git-processes.ts";

/** An object's type and size, as `git cat-file` reports it. */
export interface ObjectInfo {
  type: string;
  size: number;
}

interface Pending {
  withContent: boolean;
  resolve(value: (ObjectInfo & { content?: Buffer }) | undefined): void;
  reject(error: Error): void;
}

/**
 * Reads many objects of one repository through a single `git cat-file --batch-command`, one
 * process for a whole walk instead of one per object. `info` gives an object's type and size
 * without its bytes, so a large blob is never read just to learn it is large.
 */
export class ObjectReader {
  private readonly git: GitProcess;
  private readonly pending: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  /** `env`: GIT_DIR, and where the objects are (a push's quarantine), on top of git's isolated environment. */
  constructor(repository: string, env: Record<string, string>) {
    this.git = startGit(["cat-file", "--batch-command"], { cwd: repository, env });
    this.git.stdout.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.drain();
    });
    this.git.ended.then(
      ({ code, stderr }) => this.fail(new Error(stderr.trim() || `git cat-file exited with ${code}`)),
      (error: Error) => this.fail(error),
    );
  }

  /** The type and size of an object, or undefined when the repository does not hold it. */
  info(id: string): Promise<ObjectInfo | undefined> {
    return this.request(id, false);
  }

  /** An object's type, size and bytes, or undefined when the repository does not hold it. */
  async read(id: string): Promise<(ObjectInfo & { content: Buffer }) | undefined> {
    return (await this.request(id, true)) as (ObjectInfo & { content: Buffer }) | undefined;
  }

  close(): void {
    this.git.stdin.end();
  }

  private request(id: string, withContent: boolean): Promise<(ObjectInfo & { content?: Buffer }) | undefined> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(id)) return Promise.reject(new Error(`refusing object id ${JSON.stringify(id)}`));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ withContent, resolve, reject });
      this.git.stdin.write(`${withContent ? "contents" : "info"} ${id}\n`);
    });
  }

  // Answers come in the order asked: a header line `<id> <type> <size>` (or `<id> missing`), then for `contents` the bytes and a newline.
  private drain(): void {
    while (this.pending.length > 0) {
      const end = this.buffered.indexOf(10);
      if (end === -1) return;
      const header = this.buffered.subarray(0, end).toString("latin1").split(" ");
      const next = this.pending[0]!;
      if (header[1] === "missing" || header.length !== 3) {
        this.pending.shift();
        this.buffered = this.buffered.subarray(end + 1);
        next.resolve(undefined);
        continue;
      }
      const info = { type: header[1]!, size: Number(header[2]) };
      if (!next.withContent) {
        this.pending.shift();
        this.buffered = this.buffered.subarray(end + 1);
        next.resolve(info);
        continue;
      }
      if (this.buffered.length < end + 1 + info.size + 1) return;
      this.pending.shift();
      const content = Buffer.from(this.buffered.subarray(end + 1, end + 1 + info.size));
      this.buffered = this.buffered.subarray(end + 1 + info.size + 1);
      next.resolve({ ...info, content });
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.splice(0)) pending.reject(this.failure);
  }
}
