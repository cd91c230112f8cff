import { normalizeHostname } from "../../core/hostnames.ts";
import { dnsCheckMessage } from "../blocks/dns.ts";
import type { Command } from "./command.ts";

export const dnsCommands: Command[] = [
  {
    name: "dns check",
    readOnly: true,
    usage: "dns check <hostname>",
    summary: "The DNS record a hostname needs, and whether it points at the edge now",
    syntax: { positionals: [{ name: "hostname" }] },
    async run({ dns }, args) {
      const { hostname, reducedFrom } = normalizeHostname(args.text("hostname"));
      return dnsCheckMessage(await dns.verify(hostname), reducedFrom === undefined ? {} : { reducedFrom });
    },
  },
];
