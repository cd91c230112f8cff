import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { startEdgebot } from "./edgebot-process.ts";

/** `npm start`'s shell as a subprocess whose input stays open, so git can talk to it meanwhile. */
export class RunningShell {
  private output = "";
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(env: Record<string, string>) {
    this.child = startEdgebot(env, { keepStdinOpen: true }).child;
    this.child.stdout.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Types a line and waits until the output matches `until`; returns the output since the line was typed. */
  async type(line: string, until: RegExp): Promise<string> {
    const from = this.output.length;
    this.child.stdin.write(`${line}\n`);
    return this.waitFor(until, from);
  }

  /** Waits until the output since `from` matches `until` (within `timeoutMs`, default 60 s); returns it. */
  async waitFor(until: RegExp, from = 0, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!until.test(this.output.slice(from))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${until}; the shell printed:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.output.slice(from);
  }

  get printed(): string {
    return this.output;
  }

  async end(): Promise<number | null> {
    this.child.stdin.end();
    return new Promise((resolve) => this.child.on("close", resolve));
  }
}
