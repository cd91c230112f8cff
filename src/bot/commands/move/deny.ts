import { z } from "zod";
import { decideMove } from "../../../core/moves.ts";
import { moveOutcomeMessage } from "../../blocks/moves.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "move deny",
  summary: "Deny moving an application into your org, with a reason if you like",
  permission: "admin",
  arguments: {
    id: text({ description: "The move's id, from its message", schema: z.string().max(100) }),
    reason: text({ description: "Why, for the one who asked; the rest of the line", optional: true, rest: true, schema: z.string() }),
  },
  examples: ["move deny 4 we host this one ourselves"],
  async run({ platform, actor }, args) {
    return moveOutcomeMessage(await decideMove(platform, { actor, id: args.id, decision: "deny", reason: args.reason }));
  },
});
