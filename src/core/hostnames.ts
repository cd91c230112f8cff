import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { Invalid } from "./errors.ts";

export interface NormalizedHostname {
  /** Lowercase ASCII (punycode) hostname without a trailing dot. */
  hostname: string;
  /** Set when the input was a URL and only its host was kept. */
  reducedFrom?: string;
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The one parser of hostnames: lowercases, converts IDN to punycode, drops a trailing dot,
 * reduces a pasted URL to its host, and refuses IP addresses, wildcards and overlong names.
 */
export function normalizeHostname(input: string, field = "hostname"): NormalizedHostname {
  const raw = input.trim();
  if (raw === "") throw new Invalid("a hostname is required", field);
  if (raw.length > 2048) throw new Invalid("that hostname is far too long (253 characters at most)", field);

  let candidate = raw;
  let reducedFrom: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Invalid(`${shown(raw)} is not a valid URL or hostname`, field);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Invalid(`only http and https URLs can be reduced to a hostname, not ${url.protocol}`, field);
    }
    candidate = url.hostname;
    reducedFrom = raw;
  } else if (/[/?#@\s]/.test(raw)) {
    throw new Invalid(`${shown(raw)} is not a hostname: use a name like www.example.com`, field);
  }

  if (candidate.startsWith("[") || isIP(candidate) !== 0) {
    throw new Invalid(`${shown(candidate)} is an IP address: domains must be hostnames`, field);
  }
  if (candidate.includes("*")) throw new Invalid("wildcard hostnames are not supported", field);
  if (candidate.endsWith(".")) candidate = candidate.slice(0, -1);
  if (candidate === "") throw new Invalid("a hostname is required", field);

  for (const part of candidate.split(".")) {
    if (part.length > 63) {
      throw new Invalid(`the label "${shown(part, 20)}" is ${part.length} characters long (63 at most)`, field);
    }
  }
  const ascii = domainToASCII(candidate.toLowerCase());
  if (ascii === "") throw new Invalid(`${shown(candidate)} is not a valid hostname`, field);
  if (ascii.length > 253) throw new Invalid(`that hostname is ${ascii.length} characters long (253 at most)`, field);
  // The URL parser reads forms like 0x7f.1 as IPv4.
  if (isIP(ascii) !== 0) throw new Invalid(`${shown(candidate)} is an IP address: domains must be hostnames`, field);

  const labels = ascii.split(".");
  for (const part of labels) {
    if (part.length > 63) throw new Invalid(`the label "${shown(part, 20)}" is over 63 characters`, field);
    if (!label.test(part)) throw new Invalid(`${shown(candidate)} is not a valid hostname: use letters, digits and dashes, like www.example.com`, field);
  }
  if (labels.length < 2) throw new Invalid(`${shown(candidate)} needs a domain, like ${shown(candidate)}.com`, field);
  if (/^[0-9]+$/.test(labels.at(-1)!)) throw new Invalid(`${shown(candidate)} is not a valid hostname: it cannot end in a number`, field);

  return reducedFrom === undefined ? { hostname: ascii } : { hostname: ascii, reducedFrom };
}

// User text echoed in a message: control characters made visible, and cut short.
function shown(value: string, max = 80): string {
  const visible = value.replace(/\p{Cc}/gu, "\uFFFD");
  return visible.length > max ? `${visible.slice(0, max)}…` : visible;
}

/** A slug made from a hostname: www.example.com → www-example-com. */
export function slugFromHostname(hostname: string): string {
  const slug = hostname.replace(/^xn--/, "").replace(/[^a-z0-9]+/g, "-").slice(0, 39).replace(/-+$/, "");
  return /^[a-z0-9]/.test(slug) ? slug : `app-${slug}`.slice(0, 39).replace(/-+$/, "");
}
