import { performance } from "node:perf_hooks";
import { sql, type CompiledQuery, type Kysely, type LogEvent } from "kysely";
import pg from "pg";

/** What one command cost over its measured iterations. */
export interface Measurement {
  name: string;
  iterations: number;
  p50: number;
  p99: number;
  /** Statements the database received per call (wire count, BEGIN/COMMIT included), min and max over the calls. */
  statements: { min: number; max: number };
  /** Statements Kysely's `log` hook reported per call, max over the calls. */
  logged: number;
  /** Transactions (BEGIN seen on the wire) per call, max over the calls. */
  transactions: number;
  /** The statements of the last measured call, for EXPLAIN. */
  lastQueries: CompiledQuery[];
}

let sentOnTheWire = 0;
let beginsOnTheWire = 0;
let wireCountInstalled = false;

/**
 * Counts every statement any pg client sends, BEGIN and COMMIT included. Kysely's log hook
 * sees what goes through its connection; this sees what reaches the server, as a cross-check.
 */
function countStatementsOnTheWire(): void {
  if (wireCountInstalled) return;
  wireCountInstalled = true;
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    sentOnTheWire += 1;
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: unknown } | undefined)?.text;
    if (typeof text === "string" && /^\s*begin\b/i.test(text)) beginsOnTheWire += 1;
    return query.apply(this, args);
  };
}

/** Counts the statements of one call at a time: pass `onQuery` to openDatabase. */
export class StatementCounter {
  private logged = 0;
  private recorded: CompiledQuery[] = [];

  constructor() {
    countStatementsOnTheWire();
  }

  readonly onQuery = (event: LogEvent): void => {
    this.logged += 1;
    this.recorded.push(event.query);
  };

  /** Runs `call` and returns what it sent to the database. */
  async count<T>(call: () => Promise<T>): Promise<{ result: T; sent: number; logged: number; transactions: number; queries: CompiledQuery[] }> {
    this.logged = 0;
    this.recorded = [];
    const sentBefore = sentOnTheWire;
    const beginsBefore = beginsOnTheWire;
    const result = await call();
    return {
      result,
      sent: sentOnTheWire - sentBefore,
      logged: this.logged,
      transactions: beginsOnTheWire - beginsBefore,
      // A copy: calls made outside `count` (warm-ups) keep appending to the live list.
      queries: [...this.recorded],
    };
  }
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Calls `call(i)` `warmup` times unmeasured, then `iterations` times one after another,
 * timing each call and counting its statements.
 */
export async function measure(
  name: string,
  counter: StatementCounter,
  options: { iterations: number; warmup: number },
  call: (iteration: number) => Promise<unknown>,
): Promise<Measurement> {
  for (let i = 0; i < options.warmup; i++) await call(-1 - i);
  const durations: number[] = [];
  let minSent = Number.POSITIVE_INFINITY;
  let maxSent = 0;
  let maxLogged = 0;
  let maxTransactions = 0;
  let lastQueries: CompiledQuery[] = [];
  for (let i = 0; i < options.iterations; i++) {
    const counted = await counter.count(async () => {
      const start = performance.now();
      await call(i);
      return performance.now() - start;
    });
    durations.push(counted.result);
    minSent = Math.min(minSent, counted.sent);
    maxSent = Math.max(maxSent, counted.sent);
    maxLogged = Math.max(maxLogged, counted.logged);
    maxTransactions = Math.max(maxTransactions, counted.transactions);
    lastQueries = counted.queries;
  }
  durations.sort((a, b) => a - b);
  return {
    name,
    iterations: options.iterations,
    p50: percentile(durations, 0.5),
    p99: percentile(durations, 0.99),
    statements: { min: minSent, max: maxSent },
    logged: maxLogged,
    transactions: maxTransactions,
    lastQueries,
  };
}

/** One `select 1` through the same Kysely instance: the floor every command stands on. */
export async function measureRoundTrip(db: Kysely<any>, counter: StatementCounter, iterations: number): Promise<Measurement> {
  return measure("round trip (select 1)", counter, { iterations, warmup: Math.min(200, iterations) }, () => sql`select 1`.execute(db));
}

/** A small deterministic random source, so two runs pick the same targets. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("nothing to pick from");
    return items[Math.floor(this.next() * items.length)]!;
  }
}
