import { z } from "zod";
import { cloneApplication } from "../../../core/clones.ts";
import { code, MessageBuilder } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, org, text } from "../parameters.ts";

export default defineCommand({
  name: "app clone",
  summary: "A new application whose repository is a copy of an application's production history, without domains",
  permission: "developer",
  arguments: { app: app({ description: "The application to copy, `org/app`", field: { label: "Application to copy" } }) },
  options: {
    name: text({ description: "The new application's slug", value: "slug", required: true, schema: z.string().max(39), field: { label: "New application's name", placeholder: "www-copy" } }),
    org: org({ description: "The org the copy goes in; the original's when left out", field: { label: "Org", hint: "Where the copy goes; the original's org when left empty." } }),
  },
  examples: ["app clone agency/template --name acme-www --org acme", "app clone acme/www --name www-next"],
  form: {
    title: "Clone an application",
    submit: "Clone",
    intro: "A new application with a copy of the production configuration and its whole history. It has production only and no domains.",
  },
  async run({ platform, actor }, args) {
    const clone = await cloneApplication(platform, { actor, app: args.app, name: args.name, org: args.org });
    return new MessageBuilder()
      .section(`:busts_in_silhouette: Created *${clone.ref}* as a copy of *${clone.from}*: production with its ${clone.commits} commit(s) of history, and no domains.`)
      .context(`Give it a domain with ${code(`domain add ${clone.ref} production <hostname>`)}.`)
      .build();
  },
});
