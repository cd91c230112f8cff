import { z } from "zod";
import { addDomain, goLiveAdvice } from "../../../core/domains.ts";
import { hostnameLabel } from "../../blocks/applications.ts";
import { dnsAdviceBlocks } from "../../blocks/dns-advice.ts";
import { code, MessageBuilder } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "domain add",
  summary: "Serve a hostname from an environment",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`", field: { label: "Application" } }),
    env: text({ description: "The environment that serves it", schema: z.string().max(63), field: { label: "Environment", placeholder: "production" } }),
    hostname: text({ description: "The hostname; a pasted URL is fine", schema: z.string().max(2048), field: { label: "Hostname", placeholder: "shop.example.com" } }),
  },
  examples: ["domain add acme/www production shop.acme.example"],
  form: { title: "Add a domain", submit: "Add", intro: "A domain goes live when its DNS points at the edge." },
  async run({ platform, actor }, args) {
    const added = await addDomain(platform, { actor, app: args.app, env: args.env, hostname: args.hostname });
    const builder = new MessageBuilder().section(`:white_check_mark: *${hostnameLabel(added.hostname)}* now belongs to *${added.ref} ${added.env}*.`);
    if (added.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${added.hostname} is what was added.`);
    // Asked once the domain is added: DNS failing leaves the plain advice, never a failed add.
    const dns = await goLiveAdvice(platform, { actor, hostname: added.hostname });
    const golive = code(`golive ${added.ref} ${added.env}`);
    if (dns.status === "passes") return builder.section(`It already points at the edge: ${golive} takes it live.`).build();
    const advice = dnsAdviceBlocks(dns.advice, { toGoLive: true });
    return builder.add(advice.blocks, advice.text).context(`Then run ${golive}: it checks DNS and takes the environment live once every domain points at the edge.`).build();
  },
});
