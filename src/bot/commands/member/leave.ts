import { leaveOrg } from "../../../core/members.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { org } from "../parameters.ts";

export default defineCommand({
  name: "member leave",
  summary: "Leave an org (its last owner cannot)",
  permission: "member",
  arguments: { org: org({ description: "The org's slug", field: { label: "Org to leave" } }) },
  examples: ["member leave agency"],
  form: { title: "Leave an org", submit: "Leave", intro: "You lose access to the org and its applications. Its last owner cannot leave." },
  async run({ platform, actor }, args) {
    const left = await leaveOrg(platform, { actor, org: args.org });
    return say(`:wave: You left *${left.org}* (you were ${left.role}).`);
  },
});
