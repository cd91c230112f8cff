import { z } from "zod";
import { deleteApplication } from "../../../core/applications.ts";
import { code, say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "app delete",
  summary: "Delete an application with its environments, domains and repository",
  permission: "developer",
  arguments: { app: app({ description: "The application, `org/app`", field: { label: "Application" } }) },
  options: {
    confirm: text({ description: "The application again, to say you mean it", value: "app", required: true, repeats: "app", schema: z.string().max(200) }),
  },
  examples: ["app delete acme/www --confirm acme/www"],
  form: {
    title: "Delete an application",
    submit: "Delete",
    intro: "Deletes an application with its environments, domains and repository.",
    confirm: "Delete {app} with its environments, domains and repository?",
  },
  async run({ platform, actor }, args) {
    const deleted = await deleteApplication(platform, { actor, app: args.app, confirm: args.confirm });
    const returned = deleted.prefixReturned === undefined ? "" : ` ${code(deleted.prefixReturned.prefix)} is handled by *${deleted.prefixReturned.to}* again.`;
    return say(`:wastebasket: Deleted *${deleted.ref}* with ${deleted.environments} environment(s), ${deleted.domains} domain(s) and its repository.${returned}`);
  },
});
