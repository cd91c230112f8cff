import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";

/**
 * The request being handled (a slash command, a button, a form, an event, a git request, a
 * background job), carried through all of its handling, awaits included: its id, which every
 * log line written meanwhile names and a "something went wrong" answer shows as its reference,
 * so that what a person reports leads to the log lines of their request; and what it came to,
 * for its one access log line.
 */
export interface RequestRecord {
  id: string;
  /** The command it ran, by name (never its arguments), once one is known. */
  command?: string;
  /** How it ended, when its handler says: `failed` is set by `failureAnswer`. */
  outcome?: RequestOutcome;
}

/** How a request ended, as its access log line says it. */
export type RequestOutcome = "ok" | "refused" | "failed" | "form" | "usage" | "unknown_command";

const current = new AsyncLocalStorage<RequestRecord>();

/** A new request id: 6 hex digits, short enough to read out (`7f3a2c`). */
export function newRequestId(): string {
  return randomBytes(3).toString("hex");
}

/** Runs `work` as request `id`: `currentRequest()` answers its record in everything `work` does. */
export function withRequestId<T>(id: string, work: () => T): T {
  return current.run({ id }, work);
}

/** The request being handled here, if any. */
export function currentRequest(): RequestRecord | undefined {
  return current.getStore();
}

/** The id of the request being handled here, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore()?.id;
}

/** Notes the command the request runs and how it came out (the first outcome noted stays). */
export function noteCommand(command: string, outcome: RequestOutcome): void {
  const record = current.getStore();
  if (record === undefined) return;
  record.command ??= command;
  record.outcome ??= outcome;
}

/**
 * The answer to a failure nobody foresaw: `text` with the request's reference, which leads to its
 * log lines. The request is noted as failed.
 */
export function failureAnswer(text: string): string {
  const record = current.getStore();
  if (record === undefined) return text;
  record.outcome = "failed";
  return `${text} (reference ${record.id})`;
}
