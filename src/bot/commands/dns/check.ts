import { z } from "zod";
import { checkHostname } from "../../../core/domains.ts";
import { normalizeHostname } from "../../../core/hostnames.ts";
import { dnsCheckMessage } from "../../blocks/dns.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "dns check",
  summary: "The DNS record a hostname needs, and whether it points at the edge now",
  permission: "anyone",
  readOnly: true,
  arguments: { hostname: text({ description: "The hostname; a pasted URL is fine", schema: z.string().max(2048) }) },
  examples: ["dns check www.acme.example"],
  async run({ platform, actor, dns }, args) {
    const { hostname, reducedFrom } = normalizeHostname(args.hostname);
    return dnsCheckMessage(await checkHostname(platform, { actor, hostname, dns }), reducedFrom === undefined ? {} : { reducedFrom });
  },
});
