/**
 * Git protocol v2's `ls-refs` command, answered from the refs on disk instead of by a
 * `git upload-pack` process: the first request of every clone and fetch after the capability
 * list, and on these machines a process is most of its time.
 *
 * Only requests this module fully understands are answered here; `parseLsRefsRequest` returns
 * undefined for anything else (another object format, an argument it does not know, a malformed
 * packet), and the caller hands the request to git unchanged.
 * https://git-scm.com/docs/protocol-v2#_ls_refs
 */

/** What a client asked `ls-refs` for. */
export interface LsRefsRequest {
  /** `symrefs`: name the branch HEAD points at. */
  symrefs: boolean;
  /** `unborn`: mention HEAD even while the branch it names does not exist. */
  unborn: boolean;
  /** `ref-prefix`: only refs starting with one of these; all refs when empty. */
  prefixes: string[];
}

/** The refs to list: HEAD and the branches, as `Repositories.advertisedRefs` reads them. */
export interface AdvertisedRefs {
  head: { target: string; commit: string | undefined } | undefined;
  /** By full ref name, in git's (byte) order. */
  branches: Map<string, string>;
}

/** Git lists every ref when a client names more prefixes than this (upload-pack's TOO_MANY_PREFIXES). */
const tooManyPrefixes = 65;
const maxPacketLength = 65520;

/** The command a v2 request names in its first packet (`command=ls-refs`), or undefined when it names none. */
export function requestCommand(bytes: Buffer): string | undefined {
  const [first] = readPackets(bytes) ?? [];
  if (first === undefined || first.kind !== "data") return undefined;
  return /^command=([a-z-]+)\n?$/.exec(first.text)?.[1];
}

/** Whether `bytes` holds a whole packet yet: enough to read the command. */
export function holdsFirstPacket(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  const length = packetLength(bytes, 0);
  return length === undefined || length < 4 || bytes.length >= length;
}

/** An ls-refs request whose every line is understood, or undefined. */
export function parseLsRefsRequest(bytes: Buffer): LsRefsRequest | undefined {
  const packets = readPackets(bytes);
  if (packets === undefined) return undefined;
  const request: LsRefsRequest = { symrefs: false, unborn: false, prefixes: [] };
  let section: "command" | "capabilities" | "arguments" | "done" = "command";
  for (const packet of packets) {
    if (section === "done") return undefined;
    if (packet.kind === "flush") {
      section = "done";
      continue;
    }
    if (packet.kind === "delim") {
      if (section !== "capabilities") return undefined;
      section = "arguments";
      continue;
    }
    const line = packet.text.replace(/\n$/, "");
    if (section === "command") {
      if (line !== "command=ls-refs") return undefined;
      section = "capabilities";
    } else if (section === "capabilities") {
      // The client's name and version is only informative; any other capability is git's to judge.
      if (line.startsWith("agent=")) continue;
      if (line !== "object-format=sha1") return undefined;
    } else if (line === "symrefs") request.symrefs = true;
    else if (line === "unborn") request.unborn = true;
    // Branches point at commits, never at tags, so there is nothing to peel.
    else if (line === "peel") continue;
    else if (line.startsWith("ref-prefix ") && line.length > "ref-prefix ".length) request.prefixes.push(line.slice("ref-prefix ".length));
    else return undefined;
  }
  return section === "done" ? request : undefined;
}

/** The ls-refs answer: HEAD first, then each branch, as pkt-lines ending with a flush. */
export function lsRefsAnswer(request: LsRefsRequest, refs: AdvertisedRefs): Buffer {
  const prefixes = request.prefixes.length > tooManyPrefixes ? [] : request.prefixes;
  const wanted = (ref: string) => prefixes.length === 0 || prefixes.some((prefix) => ref.startsWith(prefix));
  const lines: string[] = [];
  if (refs.head !== undefined && wanted("HEAD")) {
    const target = request.symrefs ? ` symref-target:${refs.head.target}` : "";
    if (refs.head.commit !== undefined) lines.push(`${refs.head.commit} HEAD${target}\n`);
    else if (request.unborn) lines.push(`unborn HEAD symref-target:${refs.head.target}\n`);
  }
  for (const [ref, commit] of refs.branches) if (wanted(ref)) lines.push(`${commit} ${ref}\n`);
  return Buffer.concat([...lines.map(packet), Buffer.from("0000")]);
}

type Packet = { kind: "data"; text: string } | { kind: "flush" } | { kind: "delim" };

/** Splits pkt-lines (four hex digits of length, then the payload); undefined when malformed. */
function readPackets(bytes: Buffer): Packet[] | undefined {
  const packets: Packet[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = packetLength(bytes, at);
    if (length === undefined) return undefined;
    if (length === 0) packets.push({ kind: "flush" });
    else if (length === 1) packets.push({ kind: "delim" });
    else if (length < 4 || at + length > bytes.length) return undefined;
    else packets.push({ kind: "data", text: bytes.subarray(at + 4, at + length).toString("utf8") });
    at += length < 4 ? 4 : length;
  }
  return packets;
}

function packetLength(bytes: Buffer, at: number): number | undefined {
  const hex = bytes.subarray(at, at + 4).toString("latin1");
  if (!/^[0-9a-f]{4}$/.test(hex)) return undefined;
  const length = Number.parseInt(hex, 16);
  return length > maxPacketLength ? undefined : length;
}

function packet(line: string): Buffer {
  const payload = Buffer.from(line);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, "0")), payload]);
}
