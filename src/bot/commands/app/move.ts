import { requestMove } from "../../../core/moves.ts";
import { moveOutcomeMessage } from "../../blocks/moves.ts";
import { defineCommand } from "../define.ts";
import { app, org } from "../parameters.ts";

export default defineCommand({
  name: "app move",
  summary: "Move an application to another org with its repository, environments and domains (the target's owners or admins approve)",
  permission: "admin",
  arguments: { app: app({ description: "The application to move, `org/app`", field: { label: "Application to move" } }) },
  options: {
    to: org({
      description: "The org it moves to; one you are a member of",
      value: "org",
      required: true,
      field: { label: "Move to org", hint: "Moves at once if you are an owner or admin there too; otherwise its owners and admins approve within 48 hours." },
    }),
  },
  examples: ["app move agency/acme-www --to acme"],
  form: {
    title: "Move an application",
    submit: "Move",
    intro: "Hand an application over to another org, with its repository and history, environments, domains and DNS state. Its channel is cleared.",
  },
  async run({ platform, actor }, args) {
    return moveOutcomeMessage(await requestMove(platform, { actor, app: args.app, to: args.to }));
  },
});
