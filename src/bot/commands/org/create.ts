import { z } from "zod";
import { createOrg } from "../../../core/orgs.ts";
import { orgCreatedMessage } from "../../blocks/orgs.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "org create",
  summary: "Create an org (a client account); you become its owner",
  permission: "anyone",
  arguments: {
    slug: text({
      description: "The org's slug: lowercase letters, digits and dashes, used in commands",
      schema: z.string().max(39),
      field: { label: "Slug", placeholder: "acme", hint: "Lowercase letters, digits and dashes, used in commands." },
    }),
  },
  options: {
    name: text({ description: "The name people read; the slug when left out", value: "display name", schema: z.string().max(100), field: { label: "Display name", placeholder: "Acme Corp" } }),
    billingEmail: text({ description: "Who receives the org's invoices", value: "email", schema: z.string().max(254), field: { label: "Billing email", placeholder: "billing@acme.example" } }),
  },
  examples: ['org create acme --name "Acme Corp" --billing-email billing@acme.example'],
  form: { title: "New org", submit: "Create", intro: "An org is a client account: the boundary of access and billing. You become its owner." },
  async run({ platform, actor }, { slug, name, billingEmail }) {
    return orgCreatedMessage(await createOrg(platform, { actor, slug, name, billingEmail }));
  },
});
