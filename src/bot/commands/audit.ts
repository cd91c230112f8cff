import { z } from "zod";
import { listAuditEvents } from "../../core/audit.ts";
import { auditMessage } from "../blocks/audit.ts";
import { defineCommand } from "./define.ts";
import { org, text } from "./parameters.ts";

export default defineCommand({
  name: "audit",
  summary: "Who did what in an org, newest first",
  permission: "admin",
  readOnly: true,
  arguments: { org: org({ description: "The org's slug" }) },
  options: { limit: text({ description: "How many events to show", value: "n", schema: z.string().max(20) }) },
  examples: ["audit acme --limit 20"],
  async run({ platform, actor }, args) {
    const { org: audited, events } = await listAuditEvents(platform, { actor, org: args.org, limit: args.limit });
    return auditMessage(audited.slug, events);
  },
});
