import { createDnsVerifier, type DnsVerifier } from "../src/dns/verify.ts";
import type { Machine } from "./machine.ts";
import type { ResultRow } from "./report.ts";

/** What every benchmark section is given by bench/index.ts. */
export interface BenchContext {
  /** The throwaway database, already migrated to the latest schema. */
  databaseUrl: string;
  /** 1 for the full run, 0.05 for --quick. */
  scale: number;
  machine: Machine;
  /** Print EXPLAIN (ANALYZE, BUFFERS) of each read's statements. */
  explain: boolean;
  /** Progress lines (stderr). */
  progress(line: string): void;
}

/** What a section hands back: a table for stdout and its part of docs/BENCHMARKS.md. */
export interface SectionResult {
  rows: ResultRow[];
  /** The table for stdout when the rows' columns do not fit the section (default: a table of `rows`). */
  table?: string;
  /** Lines printed above the table (seed sizes, baseline). */
  summary: string[];
  /** Markdown of the section, without its "## Title". */
  markdown: string;
  /** Targets not met, one line each. */
  missed: string[];
}

/**
 * One part of `npm run bench`: Core now; Slack, DNS and git later, each in its own
 * bench/<id>.ts registered in bench/index.ts.
 */
export interface BenchSection {
  /** Marker id in docs/BENCHMARKS.md. */
  id: string;
  /** The "## Title" in docs/BENCHMARKS.md. */
  title: string;
  run(context: BenchContext): Promise<SectionResult>;
}

/** DNS for a section's platform that checks no hostname: its resolver is a loopback port nothing serves. */
export function unservedDns(): DnsVerifier {
  return createDnsVerifier({ dnsServers: ["127.0.0.1:9"], dnsTimeoutMs: 200, dnsConcurrency: 10, edgeCnameSuffix: "edge.example.net", edgeIpv4: [] });
}
