import { listAuditEvents } from "../../core/audit.ts";
import { auditMessage } from "../blocks/audit.ts";
import type { Command } from "./command.ts";

export const auditCommands: Command[] = [
  {
    name: "audit",
    readOnly: true,
    usage: "audit <org> [--limit N]",
    summary: "Who did what in an org, newest first (owners, admins)",
    syntax: { positionals: [{ name: "org" }], options: { limit: "value" } },
    async run({ platform, actor }, args) {
      const { org, events } = await listAuditEvents(platform, { actor, org: args.text("org"), limit: args.option("limit") });
      return auditMessage(org.slug, events);
    },
  },
];
