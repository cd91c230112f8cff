import { z } from "zod";
import { createEnvironment } from "../../../core/environments.ts";
import { code, MessageBuilder } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env create",
  summary: "Create an environment as a branch of another (production by default)",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`", field: { label: "Application" } }),
    env: text({ description: "The new environment's name, like staging", schema: z.string().max(63), field: { label: "Environment name", placeholder: "staging" } }),
  },
  options: {
    from: text({
      description: "The environment to branch from; production when left out",
      value: "env",
      schema: z.string().max(63),
      field: { label: "Copy configuration from", placeholder: "production", hint: "The environment to branch from; production when left empty." },
    }),
    domain: text({ description: "A hostname for it to serve", value: "hostname", schema: z.string().max(2048), field: { label: "Domain", placeholder: "staging.example.com" } }),
  },
  examples: ["env create acme/www staging", "env create acme/www qa --from staging --domain qa.acme.example"],
  form: { title: "New environment", submit: "Create", intro: "An environment is a branch of the application's configuration, with its own domains." },
  async run({ platform, actor }, args) {
    const created = await createEnvironment(platform, { actor, app: args.app, env: args.env, from: args.from, domain: args.domain });
    const builder = new MessageBuilder().section(`:white_check_mark: Created *${created.ref} ${created.env}*, branched from ${created.from}.`);
    if (created.hostname !== undefined) builder.context(`It serves ${created.hostname}.`);
    else builder.context(`Add a domain: ${code(`domain add ${created.ref} ${created.env} <hostname>`)}`);
    return builder.build();
  },
});
