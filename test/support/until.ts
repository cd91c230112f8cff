/**
 * Reads until `read` gives a value (`undefined` and `false` mean not yet), every `everyMs`, for what background work (a job queue, a
 * process) does in its own time; throws "timed out waiting for <what>" after `timeoutMs`.
 */
export async function until<T>(read: () => T | undefined | false | Promise<T | undefined | false>, options: { what: string; timeoutMs: number; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 100));
  }
}
