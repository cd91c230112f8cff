import type { Verdict } from "../../dns/verify.ts";
import { code, escapeText, MessageBuilder, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";

/** The answer to `dns check`: the record the hostname needs, and what DNS says now. */
export function dnsCheckMessage(verdict: Verdict, options: { reducedFrom?: string } = {}): Message {
  const name = `*${hostnameLabel(verdict.hostname)}*`;
  const expected = `Expected: ${code(`CNAME ${verdict.hostname} → ${verdict.expectedTarget}`)}`;
  const builder = new MessageBuilder();
  if (verdict.status === "passes") {
    builder.section(`:large_green_circle: ${name} points at the edge.\n${expected}\nFound: ${escapeText(verdict.found)}`);
  } else if (verdict.status === "fails") {
    builder
      .section(`:red_circle: ${name} does not point at the edge yet.\nCreate this record: ${code(verdict.recordToCreate)}`)
      .section(`Found:\n${verdict.found.map((line) => `• ${escapeText(line)}`).join("\n")}`)
      .context(`At a zone apex, which cannot hold a CNAME, use an ALIAS or ANAME record to ${verdict.expectedTarget}, or A records to the edge's addresses.`);
  } else {
    builder.section(
      `:grey_question: Could not check ${name}: ${escapeText(verdict.reason)}.\nThat is not a failure: DNS did not give an answer. Try again in a few minutes.\n${expected}`,
    );
  }
  if (options.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${verdict.hostname} is what was checked.`);
  return builder.build();
}
