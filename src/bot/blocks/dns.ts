import type { Verdict } from "../../core/golive.ts";
import { awaitingHours } from "../../core/golive.ts";
import { code, escapeText, MessageBuilder, when, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";
import { checkAgainButton } from "./buttons.ts";
import { dnsAdviceBlocks, dnsAdviceText } from "./dns-advice.ts";

/** The answer to `dns check`: what DNS says now, and the records the hostname needs (see dns-advice.ts). */
export function dnsCheckMessage(verdict: Verdict, options: { reducedFrom?: string } = {}): Message {
  const name = `*${hostnameLabel(verdict.hostname)}*`;
  const expected = `Expected: ${code(`CNAME ${verdict.hostname} → ${verdict.expectedTarget}`)}`;
  const builder = new MessageBuilder();
  if (verdict.status === "passes") {
    builder.section(`:large_green_circle: ${name} points at the edge.\n${expected}\nFound: ${escapeText(verdict.found)}`);
  } else if (verdict.status === "fails") {
    builder.section(`:red_circle: ${name} does not point at the edge yet.\nFound:\n${verdict.found.map((line) => `• ${escapeText(line)}`).join("\n")}`);
    if (verdict.advice === undefined) builder.section(`Create this record: ${code(verdict.recordToCreate)}`);
    else {
      const advice = dnsAdviceBlocks(verdict.advice);
      builder.add(advice.blocks, advice.text);
    }
  } else {
    builder.section(
      `:grey_question: Could not check ${name}: ${escapeText(verdict.reason)}.\nThat is not a failure: DNS did not give an answer. Try again in a few minutes.\n${expected}`,
    );
  }
  if (options.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${verdict.hostname} is what was checked.`);
  return builder.build();
}

/** One domain's item in go-live results and re-check announcements: verdict, found, and for a failing one its advice (dns-advice.ts). */
function verdictLine(verdict: Verdict): string {
  const name = `*${hostnameLabel(verdict.hostname)}*`;
  if (verdict.status === "passes") return `:large_green_circle: ${name} passes: ${escapeText(verdict.found)}`;
  if (verdict.status === "could_not_check") return `:grey_question: ${name} could not be checked (${escapeText(verdict.reason)}); expected ${code(verdict.expectedTarget)}`;
  const found = `:red_circle: ${name} fails: found ${verdict.found.map(escapeText).join("; ")}.`;
  // Results stored before verdicts carried advice name only the record to create.
  return verdict.advice === undefined ? `${found} Create ${code(verdict.recordToCreate)}` : `${found}\n${dnsAdviceText(verdict.advice)}`;
}

/** What a go-live check came to, as its results and the answer to `golive` show it. */
export interface GoLiveOutcome {
  /** `org/app`. */
  app: string;
  env: string;
  verdicts: Verdict[];
  live: boolean;
  /** This check made it live; absent in results from before it was recorded. */
  wentLive?: boolean;
  /** This check ended its being live. */
  regressed?: boolean;
  /** When the next background re-check is due, while they run. */
  nextRecheckAt?: string | Date;
}

/** Go-live results, as posted: one line per domain, then what it came to and what happens next. */
export function goLiveResultsMessage(results: GoLiveOutcome, options: { by?: string } = {}): Message {
  const builder = new MessageBuilder()
    .section(goLiveSummary(results))
    .list(results.verdicts.map(verdictLine), { limit: 40, noun: "domains" })
    .section(goLiveState(results));
  const next = nextStep(results);
  if (next !== undefined) builder.context(next);
  if (options.by) builder.context(options.by);
  builder.actions(checkAgainButton(results.app, results.env));
  return builder.build();
}

/**
 * The answer to a typed `golive` whose results were posted: where they are (a channel, the
 * conversation it was typed in, or a direct message from edgebot), and what the check came
 * to, without the table.
 */
export function goLivePostedAnswer(results: GoLiveOutcome, where: { channel: string } | "here" | "direct"): Message {
  const posted = where === "here" ? "Results posted in this conversation." : where === "direct" ? "Results sent to you in a direct message from edgebot." : `Results posted in <#${where.channel}>.`;
  const builder = new MessageBuilder().section(`${goLiveSummary(results)}\n${goLiveState(results)}`);
  const next = nextStep(results);
  if (next !== undefined) builder.context(next);
  return builder.context(posted).build();
}

/** "Go-live check of org/app env: 1 of 2 domains point at the edge." */
function goLiveSummary(results: GoLiveOutcome): string {
  const passing = results.verdicts.filter((verdict) => verdict.status === "passes").length;
  return `*Go-live check of ${results.app} ${results.env}*: ${passing} of ${results.verdicts.length} domains point at the edge.`;
}

/** Whether the environment is live after the check, and whether the check changed that. */
function goLiveState(results: GoLiveOutcome): string {
  const named = `${results.app} ${results.env}`;
  if (results.wentLive) return `:rocket: *${named} is live.*`;
  if (results.live) return results.wentLive === false ? `Every domain passes: ${named} was already live.` : `Every domain passes: ${named} is live.`;
  if (results.regressed) return `:warning: *${named} is no longer live.*`;
  return `${named} is not live yet.`;
}

/** What happens next for an environment not live: the background re-checks and when the next is, or a check to run. */
function nextStep(results: GoLiveOutcome): string | undefined {
  if (results.live) return undefined;
  if (results.nextRecheckAt !== undefined) return `${rechecksRunning(new Date(results.nextRecheckAt))} edgebot announces when it is live.`;
  return `Once DNS is right, run ${code(`golive ${results.app} ${results.env}`)} again.`;
}

/** "edgebot re-checks DNS in the background; next check at 14:05 (in 1 minute)." */
function rechecksRunning(next: Date): string {
  return `edgebot re-checks DNS in the background; next check at ${when(next)} (${fromNow(next)}), then less and less often for ${awaitingHours} hours.`;
}

/** How long until `date`, roughly, as a message read now says it. */
function fromNow(date: Date, now = Date.now()): string {
  const minutes = Math.round((date.getTime() - now) / 60_000);
  if (minutes < 1) return "any moment now";
  if (minutes < 90) return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `in about ${Math.round(minutes / 60)} hours`;
}

/** The go-live announcement. */
export function liveAnnouncement(input: { app: string; env: string; hostnames: string[]; background?: boolean }, by: string): Message {
  return new MessageBuilder()
    .section(`:rocket: *${input.app} ${input.env} is live*: ${input.hostnames.map((hostname) => `*${hostnameLabel(hostname)}*`).join(", ")} now point at the edge.`)
    .context(input.background ? `Found by edgebot's background DNS check.` : by)
    .build();
}

/** A live environment whose DNS no longer points at the edge, with what to fix and when it is checked next. */
export function regressionAnnouncement(input: { app: string; env: string; verdicts: Verdict[]; background: boolean; nextRecheckAt?: string }, by: string): Message {
  const failing = input.verdicts.filter((verdict) => verdict.status === "fails");
  const next =
    input.nextRecheckAt !== undefined
      ? `${rechecksRunning(new Date(input.nextRecheckAt))} edgebot announces when it is live again.`
      : input.background
        ? `edgebot re-checks for ${awaitingHours} hours and announces when it is live again.`
        : `Once DNS is right, run ${code(`golive ${input.app} ${input.env}`)} again.`;
  return new MessageBuilder()
    .section(`:warning: *${input.app} ${input.env} is no longer live*: ${failing.length === 1 ? "a domain no longer points" : `${failing.length} domains no longer point`} at the edge.`)
    .list(failing.map(verdictLine), { limit: 40, noun: "domains" })
    .context(input.background ? `Found by edgebot's background DNS check. ${next}` : `${next} · ${by}`)
    .actions(checkAgainButton(input.app, input.env))
    .build();
}

/** Background re-checks stopped without every domain passing. */
export function gaveUpAnnouncement(input: { app: string; env: string; verdicts: Verdict[]; since: string }): Message {
  const notPassing = input.verdicts.filter((verdict) => verdict.status !== "passes");
  return new MessageBuilder()
    .section(`:hourglass: *${input.app} ${input.env} is not live*: edgebot re-checked its DNS for ${awaitingHours} hours (since ${when(new Date(input.since))}) and stopped. Still not pointing at the edge:`)
    .list(notPassing.map(verdictLine), { limit: 40, noun: "domains" })
    .context(`Once DNS is right, run ${code(`golive ${input.app} ${input.env}`)}: it checks now, and re-checks again in the background.`)
    .actions(checkAgainButton(input.app, input.env))
    .build();
}
