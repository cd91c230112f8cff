import { z } from "zod";
import { setBillingContact } from "../../../core/orgs.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { org, text } from "../parameters.ts";

export default defineCommand({
  name: "org billing",
  summary: "Set who receives the org's invoices",
  permission: "owner",
  arguments: {
    org: org({ description: "The org's slug" }),
    email: text({ description: "The billing contact's email address", schema: z.string().max(254) }),
  },
  examples: ["org billing acme billing@acme.example"],
  async run({ platform, actor }, args) {
    const updated = await setBillingContact(platform, { actor, org: args.org, email: args.email });
    return say(`:white_check_mark: Invoices for *${updated.slug}* now go to ${updated.billingEmail}.`);
  },
});
