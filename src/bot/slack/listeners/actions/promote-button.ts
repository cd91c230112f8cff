import { promoteEnvironment } from "../../../../core/configs.ts";
import { Conflict } from "../../../../core/errors.ts";
import { promotionMessage } from "../../../blocks/configs.ts";
import { promoteValue, staleDiffMessage } from "../../../blocks/buttons.ts";
import type { Message } from "../../../message.ts";
import { MessageBuilder } from "../../../message.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { onceButton, runCommand } from "./once-button.ts";

/**
 * "Promote" under an environment diff: what `env promote` does, run as the person who clicked,
 * with every check the typed command has (production takes an owner or admin). It promotes what
 * the diff showed: core refuses when either environment moved since, and the new diff is shown.
 */
export function promoteButton(dependencies: ListenerDependencies) {
  return onceButton(
    dependencies,
    { schema: promoteValue, typed: (value) => (value === undefined ? "env promote <app> <from> <to>" : `env promote ${value.app} ${value.from} ${value.to}`) },
    async ({ value, command, answer }) => {
      const { platform, actor } = command;
      try {
        const outcome = await promoteEnvironment(platform, { actor, app: value.app, from: value.from, to: value.to, expected: { fromHead: value.fromHead, toHead: value.toHead } });
        await answer(promotionMessage(outcome));
      } catch (error) {
        if (!(error instanceof Conflict && error.field === "expected")) throw error;
        const diff = await runCommand(command, "env diff", { app: value.app, from: value.from, to: value.to });
        await answer(prefixed(staleDiffMessage(value), diff));
      }
    },
  );
}

function prefixed(warning: string, message: Message): Message {
  const head = new MessageBuilder().section(warning).build();
  return { text: `${head.text}\n${message.text}`, blocks: [...head.blocks, ...message.blocks].slice(0, 50), error: true };
}
