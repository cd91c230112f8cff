import { describe, expect, it } from "vitest";
import { Invalid } from "../../src/core/errors.ts";
import { normalizeHostname, slugFromHostname } from "../../src/core/hostnames.ts";

function refusal(input: string): Invalid {
  try {
    normalizeHostname(input);
  } catch (error) {
    expect(error).toBeInstanceOf(Invalid);
    return error as Invalid;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe("normalizeHostname accepts what a person would paste", () => {
  it.each([
    ["uppercase", "WWW.Example.COM", "www.example.com"],
    ["an IDN, stored as punycode", "münchen.de", "xn--mnchen-3ya.de"],
    ["an uppercase IDN", "MÜNCHEN.DE", "xn--mnchen-3ya.de"],
    ["a trailing dot", "www.example.com.", "www.example.com"],
    ["surrounding spaces", "  www.example.com  ", "www.example.com"],
    ["a name of exactly 253 characters", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`, `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`],
    ["a label of exactly 63 characters", `${"a".repeat(63)}.com`, `${"a".repeat(63)}.com`],
    ["digits and inner dashes", "shop-2.example.co.uk", "shop-2.example.co.uk"],
  ])("%s: %j → %s", (_case, input, hostname) => {
    expect(normalizeHostname(input)).toEqual({ hostname });
  });

  it.each([
    ["https://Shop.Example.com/cart?x=1", "shop.example.com"],
    ["http://www.example.com", "www.example.com"],
    ["https://user:pw@www.example.com:8443/#top", "www.example.com"],
    ["https://münchen.de/", "xn--mnchen-3ya.de"],
  ])("a pasted URL %j is reduced to %s and says so", (input, hostname) => {
    expect(normalizeHostname(input)).toEqual({ hostname, reducedFrom: input });
  });
});

describe("normalizeHostname refuses what is not a hostname, with a clear message", () => {
  it.each([
    ["an IPv4 address", "192.0.2.1", /192\.0\.2\.1 is an IP address/],
    ["an IPv4 address in a URL", "http://192.0.2.1/", /is an IP address/],
    ["an IPv4 address in hex", "0x7f.1", /is an IP address/],
    ["an IPv6 address", "2001:db8::1", /is an IP address/],
    ["a bracketed IPv6 address", "[::1]", /\[::1\] is an IP address/],
    ["an IPv6 address in a URL", "http://[::1]:8080/", /is an IP address/],
    ["a wildcard", "*.example.com", /wildcard hostnames are not supported/],
    ["a label of 64 characters", `${"a".repeat(64)}.com`, /is 64 characters long \(63 at most\)/],
    ["a name over 253 characters", `${`${"a".repeat(60)}.`.repeat(4)}example.com`, /characters long \(253 at most\)/],
    ["a 10,000-character name", "a".repeat(10_000), /far too long/],
    ["a single label", "localhost", /localhost needs a domain, like localhost\.com/],
    ["an empty string", "", /a hostname is required/],
    ["only spaces", "   ", /a hostname is required/],
    ["only a dot", ".", /a hostname is required/],
    ["inner spaces", "www example.com", /is not a hostname: use a name like www\.example\.com/],
    ["a shell command", "a;rm -rf /", /is not a hostname/],
    ["a command substitution", "$(x)", /\$\(x\) is not a valid hostname/],
    ["a command substitution with a domain", "$(reboot).example.com", /is not a valid hostname/],
    ["backticks", "`id`.example.com", /is not a valid hostname/],
    ["a git option", "--upload-pack=x", /--upload-pack=x is not a valid hostname/],
    ["a git option with a domain", "--upload-pack=touch.example.com", /is not a valid hostname/],
    ["a leading dash", "-www.example.com", /is not a valid hostname/],
    ["a path", "../etc", /is not a hostname/],
    ["a path without dots", "etc/passwd", /is not a hostname/],
    ["single quotes", "'www.example.com'", /is not a valid hostname/],
    ["double quotes", '"www.example.com"', /is not a valid hostname/],
    ["a port", "www.example.com:8080", /is not a valid hostname/],
    ["an empty label", "www..example.com", /is not a valid hostname/],
    ["a numeric top-level label", "example.123", /is not a valid hostname/],
    ["a NUL byte", "www\u0000.example.com", /is not a valid hostname/],
    ["a bell character", "www\u0007example.com", /is not a valid hostname/],
    ["a newline", "www.example.com\nrm -rf /", /is not a hostname/],
    ["emoji only", "😀", /needs a domain/],
    ["an ftp URL", "ftp://files.example.com", /only http and https URLs/],
    ["a javascript: link", "javascript:alert(1)", /is not a valid hostname/],
  ])("%s (%j)", (_case, input, message) => {
    const error = refusal(input);
    expect(error.message).toMatch(message);
    expect(error.field).toBe("hostname");
  });

  it("never echoes control characters or pages of text back", () => {
    for (const input of ["www\u0000.example.com", "www\u001b[31m.example.com", `${"x".repeat(2000)}/`, `https://${"y".repeat(3000)}`]) {
      const { message } = refusal(input);
      expect(message).not.toMatch(/\p{Cc}/u);
      expect(message.length).toBeLessThan(200);
    }
  });

  it("names the field it was given, so a form can point at it", () => {
    expect(() => normalizeHostname("nope", "domain")).toThrow(expect.objectContaining({ field: "domain" }));
  });
});

describe("slugFromHostname", () => {
  it.each([
    ["www.example.com", "www-example-com"],
    ["xn--mnchen-3ya.de", "mnchen-3ya-de"],
    [`${"a".repeat(63)}.com`, "a".repeat(39)],
    ["1.example.com", "1-example-com"],
  ])("%s → %s", (hostname, slug) => {
    expect(slugFromHostname(hostname)).toBe(slug);
    expect(slug).toMatch(/^[a-z0-9][a-z0-9-]{0,38}$/);
  });
});
