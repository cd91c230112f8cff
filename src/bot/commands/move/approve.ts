import { z } from "zod";
import { decideMove } from "../../../core/moves.ts";
import { moveOutcomeMessage } from "../../blocks/moves.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "move approve",
  summary: "Approve moving an application into your org",
  permission: "admin",
  arguments: { id: text({ description: "The move's id, from its message", schema: z.string().max(100) }) },
  examples: ["move approve 4"],
  async run({ platform, actor }, args) {
    return moveOutcomeMessage(await decideMove(platform, { actor, id: args.id, decision: "approve" }));
  },
});
