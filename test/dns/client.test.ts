import { describe, expect, it } from "vitest";
import { canonicalName, parseResolver, resolversFrom } from "../../src/dns/client.ts";

describe("resolvers and names", () => {
  it("reads DNS_SERVERS entries: ip, ip:port, [ipv6]:port and a bare IPv6 address", () => {
    expect(parseResolver("127.0.0.1")).toEqual({ host: "127.0.0.1", port: 53 });
    expect(parseResolver("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseResolver("[::1]:5353")).toEqual({ host: "::1", port: 5353 });
    expect(parseResolver("::1")).toEqual({ host: "::1", port: 53 });
  });

  it("falls back to the system's resolvers when DNS_SERVERS is empty", () => {
    expect(resolversFrom(["127.0.0.1:5300"])).toEqual([{ host: "127.0.0.1", port: 5300 }]);
    expect(resolversFrom([]).length).toBeGreaterThan(0);
  });

  it("compares names without case or a trailing dot", () => {
    expect(canonicalName("WWW.Shop.Example.")).toBe("www.shop.example");
  });
});
