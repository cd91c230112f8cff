import { z } from "zod";
import { deleteEnvironment } from "../../../core/environments.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env delete",
  summary: "Delete an environment, its domains and its branch (never production)",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`", field: { label: "Application" } }),
    env: text({ description: "The environment's name", schema: z.string().max(63), field: { label: "Environment", placeholder: "staging" } }),
  },
  options: {
    confirm: text({ description: "The environment's name again, to say you mean it", value: "env", required: true, repeats: "env", schema: z.string().max(200) }),
  },
  examples: ["env delete acme/www qa --confirm qa"],
  form: {
    title: "Delete an environment",
    submit: "Delete",
    intro: "Deletes an environment with its domains and its branch. Production cannot be deleted.",
    confirm: "Delete environment {env} of {app}, with its domains and its branch?",
  },
  async run({ platform, actor }, args) {
    const deleted = await deleteEnvironment(platform, { actor, app: args.app, env: args.env, confirm: args.confirm });
    return say(`:wastebasket: Deleted *${deleted.ref} ${deleted.env}*, its branch and ${deleted.domains} domain(s).`);
  },
});
