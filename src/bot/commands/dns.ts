import { checkHostname } from "../../core/domains.ts";
import { normalizeHostname } from "../../core/hostnames.ts";
import { goLive } from "../../core/golive.ts";
import { dnsCheckMessage, goLiveResultsMessage } from "../blocks/dns.ts";
import type { Command } from "./command.ts";

export const dnsCommands: Command[] = [
  {
    name: "golive",
    usage: "golive <app> <env>",
    summary: "Check every domain's DNS now, post the results, and go live when all pass (developers and up)",
    syntax: { positionals: [{ name: "app" }, { name: "env" }] },
    async run({ platform, actor, dns }, args) {
      const result = await goLive(platform, { actor, app: args.text("app"), env: args.text("env"), dns });
      const message = goLiveResultsMessage(result, { wentLive: result.wentLive, regressed: result.regressed, postedToChannel: result.posted, rechecking: result.rechecking });
      // With no channel of the application's or the org's, the results go where the command ran.
      return result.posted ? message : { ...message, inChannel: true };
    },
  },
  {
    name: "dns check",
    readOnly: true,
    usage: "dns check <hostname>",
    summary: "The DNS record a hostname needs, and whether it points at the edge now",
    syntax: { positionals: [{ name: "hostname" }] },
    async run({ platform, actor, dns }, args) {
      const { hostname, reducedFrom } = normalizeHostname(args.text("hostname"));
      return dnsCheckMessage(await checkHostname(platform, { actor, hostname, dns }), reducedFrom === undefined ? {} : { reducedFrom });
    },
  },
];
