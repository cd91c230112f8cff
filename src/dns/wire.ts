import { randomFillSync } from "node:crypto";

/*
 * The DNS messages verification exchanges, as bytes. A query is written straight into a
 * buffer, and a reply is read in place for only what a verdict needs: the header's id, flags
 * and RCODE, the question, and the A, AAAA, CNAME, TXT and SOA answers with their TTLs, each
 * name made into one lowercase string. dns2's decoders cost several times more (they decode a name a label
 * at a time and build an object for every header, question and record), and the
 * verifier's CPU per hostname decides its throughput on a busy machine.
 */

/** One answer record, with names lowercased and without their trailing dot; `ttl` in seconds. */
export type AnswerRecord =
  | { type: "A" | "AAAA"; name: string; ttl: number; address: string }
  | { type: "CNAME"; name: string; ttl: number; target: string }
  /** A TXT record's character-strings joined into one text (as SPF and ACME read them). */
  | { type: "TXT"; name: string; ttl: number; text: string }
  /** Only its owner matters: a name with its own SOA is a zone apex. */
  | { type: "SOA"; name: string; ttl: number };

/** What verification reads of a reply. */
export interface DecodedReply {
  id: number;
  /** QR: the message is a reply. */
  isReply: boolean;
  /** TC: the answer did not fit in the datagram. */
  truncated: boolean;
  /** RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, … */
  rcode: number;
  /** The first question, its name lowercased and without the trailing dot. */
  question: { name: string; type: number } | undefined;
  /** The answer section's A, AAAA, CNAME, TXT and SOA records; others are skipped. */
  answers: AnswerRecord[];
}

/** A message that is not well-formed DNS; the message says what is wrong and where. */
export class MalformedMessage extends Error {
  override name = "MalformedMessage";
}

export const recordTypeCode = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28 } as const;

const headerLength = 12;
const classIn = 1;
/** RFC 1035 §2.3.4: a label is at most 63 bytes, a name at most 255 on the wire (length bytes and the root's zero included). */
const maxLabelLength = 63;
const maxNameLength = 255;
/**
 * Compression pointers followed in one name at most: a name has at most 127 labels (255
 * bytes), and no compressor needs more than a pointer a label. Every pointer must also point
 * back, so reading ends anyway; the cap bounds the work a long chain of pointers could cost.
 */
const maxPointerHops = 127;
/** The fewest bytes a question takes (the root name, type, class), and a record (the root name, type, class, TTL, data length). */
const minQuestionLength = 5;
const minRecordLength = 11;
const dot = 0x2e;

/** Query ids come from the system's random source, like dns2's, drawn a batch at a time (one call per query cost as much as the rest of the encoding). */
const randomIds = new Uint16Array(1024);
let nextRandomId = randomIds.length;

/** A random 16-bit query id. */
export function randomQueryId(): number {
  if (nextRandomId === randomIds.length) {
    randomFillSync(randomIds);
    nextRandomId = 0;
  }
  return randomIds[nextRandomId++]!;
}

/**
 * A query with one question (class IN) and recursion desired, as dns2 encodes it: empty
 * labels (a trailing dot) are left out. Throws on a name DNS cannot carry.
 */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const nameLength = wireNameLength(name);
  const message = Buffer.allocUnsafe(headerLength + nameLength + 4);
  message.writeUInt16BE(id, 0);
  message.writeUInt16BE(0x0100, 2); // RD
  message.writeUInt16BE(1, 4); // QDCOUNT
  message.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  message.writeUInt16BE(0, 10); // ARCOUNT
  let at = headerLength;
  let labelStart = -1;
  for (let index = 0; index <= name.length; index++) {
    const code = index === name.length ? dot : name.charCodeAt(index);
    if (code !== dot) {
      if (labelStart < 0) labelStart = index;
      message[at + 1 + index - labelStart] = code;
    } else if (labelStart >= 0) {
      message[at] = index - labelStart;
      at += index - labelStart + 1;
      labelStart = -1;
    }
  }
  message[at] = 0;
  message.writeUInt16BE(type, at + 1);
  message.writeUInt16BE(classIn, at + 3);
  return message;
}

/** The bytes `name` takes in a message (its labels, each with its length, and the root's zero); throws on a name DNS cannot carry. */
function wireNameLength(name: string): number {
  let length = 1;
  let labelLength = 0;
  for (let index = 0; index <= name.length; index++) {
    const code = index === name.length ? dot : name.charCodeAt(index);
    if (code > 0x7f) throw new Error(`not a DNS name: ${name} has a character that is not ASCII (IDNs are asked for as punycode)`);
    if (code !== dot) {
      labelLength += 1;
      continue;
    }
    if (labelLength > maxLabelLength) throw new Error(`not a DNS name: a label of ${name} is ${labelLength} bytes (at most ${maxLabelLength})`);
    if (labelLength > 0) length += labelLength + 1;
    labelLength = 0;
  }
  if (length > maxNameLength) throw new Error(`not a DNS name: ${name} is ${length} bytes on the wire (at most ${maxNameLength})`);
  return length;
}

/** Where a name or an address is spelled out while it is read: one string is made of it at the end. */
const nameBytes = Buffer.alloc(maxNameLength);

/**
 * Reads what verification needs of a reply (see `DecodedReply`), without the authority and
 * additional sections. Throws MalformedMessage on a message cut short or whose counts claim
 * more questions and answers than its bytes can hold, a compression pointer that points
 * outside the message, forward or into a loop, a chain of more than 127 pointers, a name or
 * label too long, or an A or AAAA record of the wrong size. Its memory and work grow with the
 * message's bytes, not with what the header claims.
 */
export function decodeReply(message: Buffer): DecodedReply {
  if (message.length < headerLength) throw new MalformedMessage(`a message of ${message.length} bytes is shorter than a DNS header (${headerLength})`);
  const reader = new MessageReader(message, headerLength);
  const questionCount = message.readUInt16BE(4);
  const answerCount = message.readUInt16BE(6);
  const leastLength = headerLength + questionCount * minQuestionLength + answerCount * minRecordLength;
  if (leastLength > message.length) {
    throw new MalformedMessage(`a message of ${message.length} bytes claims ${questionCount} questions and ${answerCount} answers, which take at least ${leastLength}`);
  }
  let question: DecodedReply["question"];
  for (let count = 0; count < questionCount; count++) {
    const name = reader.name();
    const type = reader.uint16();
    reader.skip(2); // class
    question ??= { name, type };
  }
  // Sized for every record (an empty array grows to 16 on its first push), cut to those read;
  // the count was checked against the message's length above.
  const answers = new Array<AnswerRecord>(answerCount);
  let answersRead = 0;
  for (let count = 0; count < answerCount; count++) {
    const name = reader.name();
    const type = reader.uint16();
    reader.skip(2); // class
    const ttl = reader.ttl();
    const length = reader.uint16();
    const dataStart = reader.offset;
    const dataEnd = dataStart + length;
    if (dataEnd > message.length) throw new MalformedMessage(`a record's data runs past the end of the message (byte ${dataEnd} of ${message.length})`);
    if (type === recordTypeCode.CNAME) {
      const target = reader.name();
      if (reader.offset > dataEnd) throw new MalformedMessage(`a CNAME's target runs past its record's data (byte ${reader.offset}, data ends at ${dataEnd})`);
      answers[answersRead++] = { type: "CNAME", name, ttl, target };
    } else if (type === recordTypeCode.A) {
      if (length !== 4) throw new MalformedMessage(`an A record of ${length} bytes (an IPv4 address is 4)`);
      answers[answersRead++] = { type: "A", name, ttl, address: formatIpv4(message, dataStart) };
    } else if (type === recordTypeCode.AAAA) {
      if (length !== 16) throw new MalformedMessage(`an AAAA record of ${length} bytes (an IPv6 address is 16)`);
      answers[answersRead++] = { type: "AAAA", name, ttl, address: formatIpv6(message, dataStart) };
    } else if (type === recordTypeCode.TXT) {
      answers[answersRead++] = { type: "TXT", name, ttl, text: decodeTxtData(message, dataStart, dataEnd) };
    } else if (type === recordTypeCode.SOA) {
      answers[answersRead++] = { type: "SOA", name, ttl };
    }
    reader.offset = dataEnd;
  }
  answers.length = answersRead;
  return {
    id: message.readUInt16BE(0),
    isReply: (message[2]! & 0x80) !== 0,
    truncated: (message[2]! & 0x02) !== 0,
    rcode: message[3]! & 0x0f,
    question,
    answers,
  };
}

/** A position in a message, checked against its end before every read. */
class MessageReader {
  constructor(
    readonly message: Buffer,
    public offset: number,
  ) {}

  uint16(): number {
    this.need(2);
    const value = (this.message[this.offset]! << 8) | this.message[this.offset + 1]!;
    this.offset += 2;
    return value;
  }

  /** A TTL in seconds; RFC 2181 §8: one with its top bit set is read as zero. */
  ttl(): number {
    this.need(4);
    const value = this.message.readUInt32BE(this.offset);
    this.offset += 4;
    return value > 0x7fffffff ? 0 : value;
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.offset += bytes;
  }

  /**
   * A name, lowercased (DNS compares names case-insensitively, RFC 4343) and without the
   * root's trailing dot, following compression pointers (RFC 1035 §4.1.4). A pointer must
   * point before where the labels it follows began: names only point back at earlier ones,
   * so every jump goes further back and reading ends.
   */
  name(): string {
    const message = this.message;
    let at = this.offset;
    /** Where reading goes on after the name: after its first pointer, or after its root label. */
    let resumeAt = -1;
    let runStart = at;
    let length = 0;
    let wireLength = 1; // the root's zero byte
    let hops = 0;
    for (;;) {
      if (at >= message.length) throw new MalformedMessage(`a name runs past the end of the message (byte ${at})`);
      const size = message[at]!;
      if (size === 0) {
        at += 1;
        break;
      }
      if ((size & 0xc0) === 0xc0) {
        if (at + 1 >= message.length) throw new MalformedMessage(`a compression pointer is cut short at the end of the message (byte ${at})`);
        const target = ((size & 0x3f) << 8) | message[at + 1]!;
        if (target >= message.length) throw new MalformedMessage(`a compression pointer at byte ${at} points outside the message (to byte ${target} of ${message.length})`);
        if (target >= runStart) throw new MalformedMessage(`a compression pointer at byte ${at} points forward or into a loop (to byte ${target})`);
        if (++hops > maxPointerHops) throw new MalformedMessage(`a name follows more than ${maxPointerHops} compression pointers (at byte ${at})`);
        if (resumeAt < 0) resumeAt = at + 2;
        at = target;
        runStart = target;
        continue;
      }
      if ((size & 0xc0) !== 0) throw new MalformedMessage(`an unknown label type 0x${size.toString(16)} at byte ${at}`);
      wireLength += size + 1;
      if (wireLength > maxNameLength) throw new MalformedMessage(`a name longer than ${maxNameLength} bytes (at byte ${at})`);
      const labelEnd = at + 1 + size;
      if (labelEnd > message.length) throw new MalformedMessage(`a label runs past the end of the message (byte ${labelEnd} of ${message.length})`);
      if (length > 0) nameBytes[length++] = dot;
      for (let index = at + 1; index < labelEnd; index++) {
        const byte = message[index]!;
        // ASCII letters only: DNS's case-insensitivity is ASCII's (RFC 4343 §3).
        nameBytes[length++] = byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
      }
      at = labelEnd;
    }
    this.offset = resumeAt < 0 ? at : resumeAt;
    return nameBytes.toString("latin1", 0, length);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.message.length) throw new MalformedMessage(`the message ends at byte ${this.message.length}, inside a field at byte ${this.offset}`);
  }
}

/**
 * A TXT record's data (RFC 1035 §3.3.14): length-prefixed character-strings, joined into one
 * text. Reads only between `start` and `end` (the record's data, already checked to lie
 * within the message); a string running past `end` is malformed.
 */
export function decodeTxtData(message: Buffer, start: number, end: number): string {
  let text = "";
  for (let at = start; at < end; ) {
    const length = message[at]!;
    if (at + 1 + length > end) throw new MalformedMessage(`a TXT string of ${length} bytes runs past its record's data (byte ${at + 1 + length}, data ends at ${end})`);
    text += message.toString("latin1", at + 1, at + 1 + length);
    at += 1 + length;
  }
  return text;
}

/** An IPv4 address in dotted decimal, spelled out in `nameBytes` and made into one string (a template made one per byte and dot). */
function formatIpv4(message: Buffer, start: number): string {
  let length = 0;
  for (let index = start; index < start + 4; index++) {
    if (index > start) nameBytes[length++] = dot;
    const byte = message[index]!;
    if (byte >= 100) nameBytes[length++] = 0x30 + Math.floor(byte / 100);
    if (byte >= 10) nameBytes[length++] = 0x30 + (Math.floor(byte / 10) % 10);
    nameBytes[length++] = 0x30 + (byte % 10);
  }
  return nameBytes.toString("latin1", 0, length);
}

/** An IPv6 address as RFC 5952 §4 writes it (and dns2 did): lowercase hex, the longest run of two or more zero groups as "::". */
function formatIpv6(message: Buffer, start: number): string {
  const groups: number[] = [];
  for (let index = 0; index < 8; index++) groups.push(message.readUInt16BE(start + index * 2));
  let bestStart = -1;
  let bestLength = 0;
  for (let index = 0; index < 8; ) {
    if (groups[index] !== 0) {
      index += 1;
      continue;
    }
    let end = index;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - index > bestLength) {
      bestStart = index;
      bestLength = end - index;
    }
    index = end;
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(":");
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

