import { readFile, writeFile } from "node:fs/promises";

/** One line of a section's results table. */
export interface ResultRow {
  command: string;
  p50: number;
  p99: number;
  /** Statements per call, as shown (e.g. "5 (1 tx)"). */
  statements: string;
  /** p50 divided by the round-trip baseline's p50. */
  ratio: number | undefined;
  target: string;
  /** Whether the target is met; undefined when there is none. */
  met: boolean | undefined;
}

const headers = ["command", "p50 ms", "p99 ms", "statements", "p50 / round trip", "target", "met"];

function cells(row: ResultRow): string[] {
  return [
    row.command,
    row.p50.toFixed(2),
    row.p99.toFixed(2),
    row.statements,
    row.ratio === undefined ? "—" : `${row.ratio.toFixed(1)}×`,
    row.target,
    row.met === undefined ? "—" : row.met ? "yes" : "**NO**",
  ];
}

export function markdownTable(rows: readonly ResultRow[]): string {
  const lines = [`| ${headers.join(" | ")} |`, `|${headers.map((_, i) => (i === 0 || i >= 5 ? "---" : "---:")).join("|")}|`];
  for (const row of rows) lines.push(`| ${cells(row).join(" | ")} |`);
  return lines.join("\n");
}

export function textTable(rows: readonly ResultRow[]): string {
  const body = rows.map((row) => cells(row).map((cell) => cell.replace(/\*\*/g, "")));
  const widths = headers.map((header, i) => Math.max(header.length, ...body.map((line) => line[i]!.length)));
  const format = (line: readonly string[]) =>
    line.map((cell, i) => (i === 0 || i >= 5 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  return [format(headers), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(format)].join("\n");
}

const documentHead = `# Benchmarks

How edgebot performs against a realistically sized Postgres database. Each section is written
by one module of \`bench/\` (\`bench/core.ts\` writes "Core"); a full run rewrites only the
sections it ran, between their markers, so sections measured at different times keep their own
machine and date.

Run: \`npm run bench\` (full size; rewrites this file) or \`npm run bench -- --quick\`
(1/20 of the data, prints only — a check that the benchmark still works). \`DATABASE_URL\`
names the admin connection (default \`postgres://postgres@127.0.0.1:5432/postgres\`, loopback
only); the benchmark creates its own \`edgebot_bench_*\` database there and drops it at the end.
`;

/**
 * Writes one section into the benchmarks document between `<!-- bench:<id>:start -->` and
 * `<!-- bench:<id>:end -->`, creating the document or appending the section when missing.
 */
export async function writeDocumentSection(file: string, id: string, title: string, body: string): Promise<void> {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `## ${title}\n\n${start}\n${body.trim()}\n${end}`;
  const current = await readFile(file, "utf8").catch(() => documentHead);
  const from = current.indexOf(`## ${title}\n\n${start}`);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next.endsWith("\n") ? next : `${next}\n`);
}
