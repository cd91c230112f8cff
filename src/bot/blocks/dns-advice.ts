import type { KnownBlock, SectionBlock } from "@slack/types";
import type { DnsAdvice, DnsRecord } from "../../core/domains.ts";
import { code, escapeText, fit, maxSectionText } from "../message.ts";

/*
 * A failing hostname's advice (SPEC §5), the one way every message shows it: `dns check`,
 * `domain add`, go-live results and every re-check announcement. The records to create are a
 * table of Type / Name / Value: Block Kit section fields where a message has room for blocks,
 * and aligned columns in a code block in text (monospace in Slack, indented in the shell).
 */

/** Block Kit allows 10 fields a section: a header row and four records. */
const fieldsPerSection = 10;

/** A record's type as DNS hosts name it: an ALIAS is an ANAME at some. */
function typeLabel(record: DnsRecord): string {
  return record.type === "ALIAS" ? "ALIAS/ANAME" : record.type;
}

/** A record on one line, like `A shop.example 192.0.2.10` or `CNAME www.shop.example → …`. */
function recordLine(record: DnsRecord): string {
  return record.type === "A" || record.type === "AAAA" ? `${typeLabel(record)} ${record.name} ${record.value}` : `${typeLabel(record)} ${record.name} → ${record.value}`;
}

/** Records as aligned columns of Type, Name and Value, in a code block. */
export function recordTable(records: DnsRecord[]): string {
  const rows = [["Type", "Name", "Value"], ...records.map((record) => [typeLabel(record), record.name, record.value])];
  const typeWidth = Math.max(...rows.map((row) => row[0]!.length));
  const nameWidth = Math.max(...rows.map((row) => row[1]!.length));
  const lines = rows.map(([type, name, value]) => `${type!.padEnd(typeWidth)}  ${name!.padEnd(nameWidth)}  ${value}`);
  return `\`\`\`\n${escapeText(lines.join("\n"))}\n\`\`\``;
}

/** The lead of the records to create: why an apex's differ. */
function createLead(advice: DnsAdvice, hostname: string, toGoLive: boolean): string {
  const create = `${toGoLive ? "To go live, create" : "Create"} ${advice.create.length === 1 ? "this record" : "these records"}:`;
  return advice.apex ? `*${escapeText(hostname)}* is a zone apex, which cannot hold a CNAME. ${create}` : create;
}

/** The lines after the records to create: the alternative, an apex's records should the name be one, what to remove, the timing. */
function afterLines(advice: DnsAdvice): { alternative?: string; ifApex?: { lead: string; records: DnsRecord[]; alternative?: string }; remove?: string; ttl?: string } {
  const lines: ReturnType<typeof afterLines> = {};
  if (advice.alternative !== undefined) lines.alternative = `Or instead, where your DNS host offers it: ${code(recordLine(advice.alternative))}`;
  const hostname = advice.create[0]?.name ?? "";
  if (advice.ifApex !== undefined) {
    lines.ifApex = {
      lead: `DNS did not answer, so whether *${escapeText(hostname)}* is a zone apex is not known. A zone apex cannot hold a CNAME: there, create instead:`,
      records: advice.ifApex.create,
      ...(advice.ifApex.alternative === undefined ? {} : { alternative: `or, where your DNS host offers it: ${code(recordLine(advice.ifApex.alternative))}` }),
    };
  }
  if (advice.remove.length > 0) lines.remove = `Remove what stands in the way:\n${advice.remove.map((record) => `• remove ${code(`${typeLabel(record)} ${record.value}`)}`).join("\n")}`;
  if (advice.ttlSeconds !== undefined) lines.ttl = `:hourglass_flowing_sand: ${ttlNote(advice.ttlSeconds, advice.remove.length)}`;
  return lines;
}

/** The timing note: how long resolvers may keep the old answer, in minutes. */
export function ttlNote(ttlSeconds: number, records: number): string {
  const minutes = Math.round(ttlSeconds / 60);
  const span = ttlSeconds < 60 ? `${ttlSeconds} ${ttlSeconds === 1 ? "second" : "seconds"}` : `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  return `The old ${records === 1 ? "record's TTL is" : "records' TTL is up to"} ${span}: resolvers may keep the old answer that long after the change.`;
}

/** Records as section fields: a header row (Type · Name, Value), then a row a record, ten fields a section. */
function recordSections(lead: string, records: DnsRecord[]): SectionBlock[] {
  const fields = records.flatMap((record) => [`${code(typeLabel(record))} · ${code(record.name)}`, code(record.value)]);
  const sections: SectionBlock[] = [];
  for (let start = 0; start === 0 || start < fields.length; start += fieldsPerSection - 2) {
    const chunk = ["*Type · Name*", "*Value*", ...fields.slice(start, start + fieldsPerSection - 2)];
    const section: SectionBlock = { type: "section", fields: chunk.map((text) => ({ type: "mrkdwn", text })) };
    if (start === 0) section.text = { type: "mrkdwn", text: fit(lead, maxSectionText) };
    sections.push(section);
  }
  return sections;
}

/**
 * The advice as Block Kit (the records to create as section fields) and the text that stands
 * for it (the records as aligned columns), for a message about one hostname; `toGoLive` leads
 * with "To go live, create …" (`domain add`).
 */
export function dnsAdviceBlocks(advice: DnsAdvice, options: { toGoLive?: boolean } = {}): { blocks: KnownBlock[]; text: string } {
  const hostname = advice.create[0]?.name ?? "";
  const lead = createLead(advice, hostname, options.toGoLive ?? false);
  const after = afterLines(advice);
  const blocks: KnownBlock[] = [...recordSections(lead, advice.create)];
  const text = [`${lead}\n${recordTable(advice.create)}`];
  const section = (line: string) => {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: fit(line, maxSectionText) } });
    text.push(line);
  };
  if (after.alternative !== undefined) section(after.alternative);
  if (after.ifApex !== undefined) {
    blocks.push(...recordSections(after.ifApex.lead, after.ifApex.records));
    text.push(`${after.ifApex.lead}\n${recordTable(after.ifApex.records)}`);
    if (after.ifApex.alternative !== undefined) section(after.ifApex.alternative);
  }
  if (after.remove !== undefined) section(after.remove);
  if (after.ttl !== undefined) {
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: after.ttl }] });
    text.push(after.ttl);
  }
  return { blocks, text: text.join("\n") };
}

/** The advice as mrkdwn lines, the records as aligned columns in a code block: for a list of hostnames, where blocks of its own would not fit. */
export function dnsAdviceText(advice: DnsAdvice): string {
  return dnsAdviceBlocks(advice).text;
}
