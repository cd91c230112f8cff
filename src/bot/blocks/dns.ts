import type { Verdict } from "../../core/golive.ts";
import { awaitingHours } from "../../core/golive.ts";
import { code, escapeText, MessageBuilder, when, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";
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

/** Go-live results, for the channel and for the person who asked: one line per domain, then what it came to. */
export function goLiveResultsMessage(
  results: { app: string; env: string; verdicts: Verdict[]; live: boolean },
  options: { by?: string; wentLive?: boolean; regressed?: boolean; postedToChannel?: boolean; rechecking?: boolean } = {},
): Message {
  const passing = results.verdicts.filter((verdict) => verdict.status === "passes").length;
  const builder = new MessageBuilder().section(`*Go-live check of ${results.app} ${results.env}*: ${passing} of ${results.verdicts.length} domains point at the edge.`);
  builder.list(results.verdicts.map(verdictLine), { limit: 40, noun: "domains" });
  if (options.wentLive) builder.section(`:rocket: *${results.app} ${results.env} is live.*`);
  else if (results.live) builder.context("Every domain passes; the environment was already live.");
  else if (options.regressed) builder.section(`:warning: *${results.app} ${results.env} is no longer live.*`);
  if (!results.live) {
    builder.context(
      options.rechecking
        ? `Not live yet. edgebot re-checks DNS in the background (after 1 minute, then less and less often, for ${awaitingHours} hours) and announces when it is live; or run ${code(`golive ${results.app} ${results.env}`)} again once DNS is right.`
        : `Not live yet: once DNS is right, run ${code(`golive ${results.app} ${results.env}`)} again.`,
    );
  }
  if (options.by) builder.context(options.by);
  if (options.postedToChannel) builder.context("These results were also posted to the application's channel.");
  return builder.build();
}

/** The go-live announcement. */
export function liveAnnouncement(input: { app: string; env: string; hostnames: string[]; background?: boolean }, by: string): Message {
  return new MessageBuilder()
    .section(`:rocket: *${input.app} ${input.env} is live*: ${input.hostnames.map((hostname) => `*${hostnameLabel(hostname)}*`).join(", ")} now point at the edge.`)
    .context(input.background ? `Found by edgebot's background DNS check.` : by)
    .build();
}

/** A live environment whose DNS no longer points at the edge, with what to fix. */
export function regressionAnnouncement(input: { app: string; env: string; verdicts: Verdict[]; background: boolean }, by: string): Message {
  const failing = input.verdicts.filter((verdict) => verdict.status === "fails");
  return new MessageBuilder()
    .section(`:warning: *${input.app} ${input.env} is no longer live*: ${failing.length === 1 ? "a domain no longer points" : `${failing.length} domains no longer point`} at the edge.`)
    .list(failing.map(verdictLine), { limit: 40, noun: "domains" })
    .context(
      input.background
        ? `Found by edgebot's background DNS check. edgebot re-checks for ${awaitingHours} hours and announces when it is live again.`
        : by,
    )
    .build();
}

/** Background re-checks stopped without every domain passing. */
export function gaveUpAnnouncement(input: { app: string; env: string; verdicts: Verdict[]; since: string }): Message {
  const notPassing = input.verdicts.filter((verdict) => verdict.status !== "passes");
  return new MessageBuilder()
    .section(`:hourglass: *${input.app} ${input.env} is not live*: edgebot re-checked its DNS for ${awaitingHours} hours (since ${when(new Date(input.since))}) and stopped. Still not pointing at the edge:`)
    .list(notPassing.map(verdictLine), { limit: 40, noun: "domains" })
    .context(`Once DNS is right, run ${code(`golive ${input.app} ${input.env}`)}: it checks now, and re-checks again in the background.`)
    .build();
}
