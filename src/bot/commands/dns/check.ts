import { z } from "zod";
import { checkDns } from "../../../core/domains.ts";
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
  async run({ platform, actor }, args) {
    const { verdict, reducedFrom } = await checkDns(platform, { actor, hostname: args.hostname });
    return dnsCheckMessage(verdict, reducedFrom === undefined ? {} : { reducedFrom });
  },
});
