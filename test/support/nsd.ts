import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import dns2 from "dns2";

/** A zone our nsd serves: its SOA and NS are written for it; the test gives the rest. */
export interface NsdZone {
  /** The zone's name, like `shop.example`. */
  origin: string;
  /** Records in zone-file syntax, names relative to the origin (`www CNAME www.shop.example.edge.test.net.`) or absolute. */
  records: string[];
}

/** NLnet Labs' nsd, authoritative for the test's zones, on 127.0.0.1 (UDP and TCP on one port). */
export interface NsdServer {
  /** `127.0.0.1:port`, as DNS_SERVERS takes it. */
  address: string;
  /** Rewrites the zones (the same origins) and has nsd reload them; resolves once nsd answers from the new files. */
  serve(zones: NsdZone[]): Promise<void>;
  /** What nsd printed. */
  output(): string;
  stop(): Promise<void>;
}

/** The nsd program: on PATH, or where Debian puts it (sbin is not on every user's PATH). */
export const nsdProgram: string | undefined = findProgram("nsd", ["/usr/sbin", "/usr/local/sbin"]);

/** Why tests against nsd cannot run here, or undefined when they can. */
export const nsdMissing: string | undefined =
  nsdProgram === undefined ? "nsd is not installed, so the end-to-end go-live against an authoritative DNS server is skipped (.ci/run installs it: apt-get install nsd)" : undefined;

const readyTimeoutMs = 10_000;
const startAttempts = 5;

/**
 * Starts an nsd of our own as a child process: its own directory, nsd.conf, pidfile and zone
 * files, on a free loopback port; no privilege drop, chroot or database, so it runs as whoever
 * runs the tests and leaves nothing behind. Resolves once it answers every zone's SOA over UDP and TCP.
 */
export async function startNsd(zones: NsdZone[]): Promise<NsdServer> {
  if (nsdProgram === undefined) throw new Error(nsdMissing);
  const directory = await mkdtemp(join(tmpdir(), "edgebot-nsd-"));
  const origins = zones.map((zone) => zone.origin);
  let serial = 1;
  await writeZones(directory, zones, serial);

  let nsd: Running | undefined;
  for (let attempt = 1; nsd === undefined; attempt += 1) {
    const port = await freePort();
    await writeFile(join(directory, "nsd.conf"), configuration(directory, port, origins));
    try {
      nsd = await run(nsdProgram, directory, port, origins, serial);
    } catch (error) {
      // Another process may take the port between our probe and nsd's bind: try another.
      if (!(error instanceof PortTaken) || attempt >= startAttempts) {
        await rm(directory, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const running = nsd;

  return {
    address: `127.0.0.1:${running.port}`,
    output: () => running.output.join(""),
    async serve(next) {
      const nextOrigins = next.map((zone) => zone.origin);
      if (nextOrigins.join(" ") !== origins.join(" ")) throw new Error(`nsd serves ${origins.join(", ")}; a change of zones needs a new server`);
      serial += 1;
      await writeZones(directory, next, serial);
      running.child.kill("SIGHUP");
      await answering(running, origins, serial);
    },
    async stop() {
      await stopChild(running.child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A started nsd and what it has printed. */
interface Running {
  child: ChildProcess;
  port: number;
  output: string[];
}

/** nsd could not bind its port. */
class PortTaken extends Error {}

async function run(program: string, directory: string, port: number, origins: string[], serial: number): Promise<Running> {
  // -d: stay in the foreground, a child we can stop; logs go to its stderr.
  const child = spawn(program, ["-d", "-c", join(directory, "nsd.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  const running: Running = { child, port, output: [] };
  // A test run that ends without stop() must not leave nsd behind.
  const orphaned = () => child.kill("SIGTERM");
  process.once("exit", orphaned);
  child.once("exit", () => process.off("exit", orphaned));
  child.stdout!.on("data", (chunk: Buffer) => running.output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => running.output.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const printed = running.output.join("");
      const message = `nsd exited (${signal ?? `code ${code}`}) before answering:\n${printed}`;
      reject(/already in use|can't bind|cannot bind/i.test(printed) ? new PortTaken(message) : new Error(message));
    });
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([answering(running, origins, serial), exited]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return running;
}

/** Waits until nsd answers each zone's SOA with `serial`, over UDP and over TCP. */
async function answering(running: Running, origins: string[], serial: number): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  const udp = dns2.UDPClient({ dns: "127.0.0.1", port: running.port, timeout: 250 });
  const tcp = dns2.TCPClient({ dns: "127.0.0.1", port: running.port });
  for (const origin of origins) {
    for (const [transport, ask] of [["udp", udp], ["tcp", tcp]] as const) {
      for (;;) {
        const answered = await within(ask(origin, "SOA"), 1000).then(
          (reply) => (reply.answers[0] as { serial?: number } | undefined)?.serial === serial,
          () => false,
        );
        if (answered) break;
        if (running.child.exitCode !== null || running.child.signalCode !== null) throw new Error(`nsd stopped:\n${running.output.join("")}`);
        if (Date.now() > deadline) throw new Error(`nsd did not answer ${origin} SOA ${serial} over ${transport} within ${readyTimeoutMs} ms:\n${running.output.join("")}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

function configuration(directory: string, port: number, origins: string[]): string {
  const server = [
    "server:",
    `  ip-address: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  username: ""',
    '  chroot: ""',
    '  database: ""',
    `  zonesdir: "${directory}"`,
    `  pidfile: "${join(directory, "nsd.pid")}"`,
    `  xfrdfile: "${join(directory, "xfrd.state")}"`,
    `  xfrdir: "${directory}"`,
    `  zonelistfile: "${join(directory, "zone.list")}"`,
    "  server-count: 1",
    "  reuseport: no",
    "  do-ip6: no",
    "  verbosity: 1",
    "remote-control:",
    "  control-enable: no",
  ];
  const zones = origins.flatMap((origin) => ["zone:", `  name: "${origin}"`, `  zonefile: "${origin}.zone"`]);
  return [...server, ...zones, ""].join("\n");
}

async function writeZones(directory: string, zones: NsdZone[], serial: number): Promise<void> {
  // nsd reloads a zone file on SIGHUP only when its mtime changed; give each version its own second.
  const modified = Math.floor(Date.now() / 1000) - 86_400 + serial;
  for (const zone of zones) {
    const file = join(directory, `${zone.origin}.zone`);
    const text = [
      `$ORIGIN ${zone.origin}.`,
      "$TTL 60",
      `@ IN SOA localhost. hostmaster.${zone.origin}. ${serial} 3600 600 86400 60`,
      "@ IN NS localhost.",
      ...zone.records,
      "",
    ].join("\n");
    await writeFile(file, text);
    await utimes(file, modified, modified);
  }
}

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(0, "127.0.0.1", () => resolve());
    });
    const port = udp.address().port;
    const tcp = createServer();
    const free = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (free) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      return port;
    }
  }
}

function findProgram(name: string, extraDirectories: string[]): string | undefined {
  const directories = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...extraDirectories];
  for (const directory of directories) {
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
