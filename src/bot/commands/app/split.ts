import { z } from "zod";
import { splitApplication } from "../../../core/splits.ts";
import { hostnameLabel } from "../../blocks/applications.ts";
import { code, MessageBuilder } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "app split",
  summary: "A new application for one URL prefix of an application's domains, starting from its production configuration",
  permission: "developer",
  arguments: { app: app({ description: "The application to split, `org/app`", field: { label: "Application to split" } }) },
  options: {
    prefix: text({
      description: "The URL prefix the new application handles, between slashes",
      value: "/path/",
      required: true,
      schema: z.string().max(100),
      field: { label: "URL prefix", placeholder: "/blog/", hint: "Path segments between slashes, like /blog/ or /shop/en/." },
    }),
    name: text({ description: "The new application's slug", value: "slug", required: true, schema: z.string().max(39), field: { label: "New application's name", placeholder: "blog" } }),
  },
  examples: ["app split acme/www --prefix /blog/ --name blog"],
  form: { title: "Split an application", submit: "Split", intro: "A new application for one URL prefix of an application's domains, starting from its production configuration." },
  async run({ platform, actor }, args) {
    const split = await splitApplication(platform, { actor, app: args.app, prefix: args.prefix, name: args.name });
    const on = split.hostnames.length === 0 ? "its domains" : split.hostnames.map(hostnameLabel).join(", ");
    return new MessageBuilder()
      .section(`:scissors: Created *${split.ref}*: it handles ${code(split.prefix)} on ${on}, starting from ${split.original}'s production configuration.`)
      .context(`See it with ${code(`config show ${split.ref} production`)} · delete it to hand ${split.prefix} back to ${split.original}.`)
      .build();
  },
});
