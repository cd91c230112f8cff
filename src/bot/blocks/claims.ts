import type { ClaimResult } from "../../core/claims.ts";
import { awaitingHours } from "../../core/golive.ts";
import { code, escapeText, MessageBuilder, when, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";

/** The TXT record to create, as Type / Name / Value. */
function recordLines(record: { name: string; value: string }): string {
  return `Type: \`TXT\`\nName: ${code(record.name)}\nValue: ${code(record.value)}`;
}

/** The answer to `domain claim`: the hostname moved, or the record to create and what DNS holds now. */
export function claimMessage(result: ClaimResult): Message {
  const name = `*${hostnameLabel(result.hostname)}*`;
  const builder = new MessageBuilder();
  if (result.status === "claimed") {
    return builder
      .section(`:key: ${name} now belongs to *${result.ref} ${result.env}*: its DNS proved you control it.`)
      .context(`Point it at the edge, then run ${code(`golive ${result.ref} ${result.env}`)}. The TXT record can be deleted now.`)
      .build();
  }
  builder.section(`:key: To claim ${name} for *${result.ref} ${result.env}*, prove you control its DNS: create this record.\n${recordLines(result.record)}`);
  const verdict = result.verdict;
  if (verdict?.status === "missing") {
    const found = verdict.found.slice(0, 5).map((text) => code(text.slice(0, 120)));
    builder.section(
      found.length === 0
        ? `:red_circle: Not there yet: ${code(verdict.recordName)} has no TXT record.`
        : `:red_circle: Not there yet: ${code(verdict.recordName)} holds ${found.join(", ")}${verdict.found.length > found.length ? ` and ${verdict.found.length - found.length} more` : ""}, not this value.`,
    );
  } else if (verdict?.status === "could_not_check") {
    builder.section(`:grey_question: Could not check ${code(verdict.recordName)}: ${escapeText(verdict.reason)}. That is not a refusal: DNS did not give an answer.`);
  }
  builder.context(
    result.rechecking
      ? `edgebot looks for it in the background (after 1 minute, then less and less often, for ${awaitingHours} hours) and moves the hostname here when it is found; or run ${code(`domain claim ${result.ref} ${result.env} ${result.hostname}`)} again once it is published. The org that holds it now is told when it moves.`
      : `Once it is published, run ${code(`domain claim ${result.ref} ${result.env} ${result.hostname}`)} again: the hostname moves here when the record is found. The org that holds it now is told when it moves.`,
  );
  if (result.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${result.hostname} is what is claimed.`);
  return builder.build();
}

/** To the claiming org: a hostname moved to one of its environments by DNS proof. */
export function claimedAnnouncement(input: { app: string; env: string; hostname: string; background?: boolean }, by: string): Message {
  return new MessageBuilder()
    .section(`:key: *${hostnameLabel(input.hostname)}* now belongs to *${input.app} ${input.env}*: a TXT record proved control of its DNS.`)
    .context(`${input.background ? "Found by edgebot's background DNS check." : by} Point it at the edge, then run ${code(`golive ${input.app} ${input.env}`)}.`)
    .build();
}

/** To the org that held a hostname: another org proved control of its DNS and took it (not named). */
export function claimedAwayAnnouncement(input: { app: string; env: string; hostname: string; recordName: string; live: boolean; domainsLeft: number }): Message {
  const state =
    input.domainsLeft === 0
      ? `*${input.app} ${input.env}* has no domains left and is not live.`
      : input.live
        ? `*${input.app} ${input.env}* is live with its other domains.`
        : `*${input.app} ${input.env}* is not live: not every one of its other domains passed its last DNS check.`;
  return new MessageBuilder()
    .section(`:warning: *${hostnameLabel(input.hostname)}* was removed from *${input.app} ${input.env}*: another org on the platform proved it controls the hostname's DNS, with a TXT record at ${code(input.recordName)}. ${state}`)
    .context(`If that is wrong, whoever controls ${escapeText(input.hostname)}'s DNS can take it back with ${code(`domain claim ${input.app} ${input.env} ${input.hostname}`)}.`)
    .build();
}

/** Background looks for a claim's record stopped without finding it. */
export function claimGaveUpAnnouncement(input: { app: string; env: string; hostname: string; recordName: string; token: string; since: string }): Message {
  return new MessageBuilder()
    .section(
      `:hourglass: *${hostnameLabel(input.hostname)}* was not claimed for *${input.app} ${input.env}*: edgebot looked for its TXT record for ${awaitingHours} hours (since ${when(new Date(input.since))}) and stopped.\n${recordLines({ name: input.recordName, value: input.token })}`,
    )
    .context(`Once the record is published, run ${code(`domain claim ${input.app} ${input.env} ${input.hostname}`)}: it checks now, and looks again in the background.`)
    .build();
}
