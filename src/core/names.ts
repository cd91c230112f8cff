import { isIP } from "node:net";
import { z } from "zod";
import { Invalid } from "./errors.ts";
import { normalizeHostname } from "./hostnames.ts";
import type { Role } from "../db/schema.ts";

export const roles = ["owner", "admin", "developer", "viewer"] as const satisfies readonly Role[];

export const orgSlug = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,38}$/, "must be 1-39 lowercase letters, digits or dashes, starting with a letter or digit");

export const applicationSlug = orgSlug;

/**
 * The URL path prefix a split handles: slash-separated segments of URL-safe characters, between
 * a leading and a trailing slash, like `/blog/` or `/shop/en/`; never `/` alone, `.` or `..`.
 */
export const urlPrefix = z
  .string()
  .trim()
  .max(100, "is too long (100 characters at most)")
  .regex(/^\/([A-Za-z0-9._~-]+\/)+$/, "must be a path like /blog/: segments of letters, digits, . _ ~ or -, starting and ending with /")
  .refine((value) => value.split("/").every((segment) => segment !== "." && segment !== ".."), "cannot hold . or .. segments");

export const environmentName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, "must be 1-31 lowercase letters, digits or dashes, starting with a letter");

export const email = z
  .string()
  .trim()
  .max(254, "is too long")
  // A dotted domain, or the shell's local user at localhost.
  .regex(/^[^\s@<>()[\]\\,;:"]+@([^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+|localhost)$/i, "must be an email address like ana@example.com")
  // Control characters are not whitespace to the pattern above, and a NUL byte would make the database throw.
  .refine((value) => !/\p{Cc}/u.test(value), "must be an email address like ana@example.com")
  .transform((value) => value.toLowerCase());

export const displayName = z
  .string()
  .trim()
  .min(1, "cannot be empty")
  .max(80, "is too long (80 characters at most)")
  // Control characters and Slack's own markup would let a name reformat messages.
  .refine((value) => !/[\p{Cc}<>*_~`]/u.test(value), "cannot hold control characters or < > * _ ~ `");

export const role = z.enum(roles, { error: "must be owner, admin, developer or viewer" });

/** An origin: a hostname or IP address, with an optional port. */
export function parseOrigin(input: string, field = "origin"): string {
  const raw = input.trim();
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(raw);
  if (!match) throw new Invalid(`${raw} is not an origin: give a hostname or IP, optionally with :port`, field);
  const host = match[1]!;
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new Invalid(`port ${port} is out of range`, field);
  }
  const bare = host.replace(/^\[|\]$/g, "");
  const address = isIP(bare) !== 0 ? host.toLowerCase() : normalizeHostname(host, field).hostname;
  return port === undefined ? address : `${address}:${port}`;
}

/** Parses one value with a schema, turning the first problem into an Invalid naming the field. */
export function parseField<T>(schema: z.ZodType<T>, value: unknown, field: string, label = field): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new Invalid(`${label} ${result.error.issues[0]?.message ?? "is not valid"}`, field);
}
