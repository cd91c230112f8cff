import { environmentLog } from "../../../../core/configs.ts";
import { promoteValue, staleDiffMessage } from "../../../blocks/buttons.ts";
import type { Message } from "../../../message.ts";
import { MessageBuilder } from "../../../message.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { onceButton, runCommand } from "./once-button.ts";

/**
 * "Promote" under an environment diff: `env promote`, run as the person who clicked, with every
 * check the typed command has (production takes an owner or admin). It promotes what the diff
 * showed: when either environment moved since, nothing is promoted and the new diff is shown.
 */
export function promoteButton(dependencies: ListenerDependencies) {
  return onceButton(
    dependencies,
    { schema: promoteValue, typed: (value) => (value === undefined ? "env promote <app> <from> <to>" : `env promote ${value.app} ${value.from} ${value.to}`) },
    async ({ value, command, answer }) => {
      const heads = await Promise.all(
        [value.from, value.to].map(async (env) => (await environmentLog(command.platform, { actor: command.actor, app: value.app, env, limit: 1 })).commits[0]?.sha),
      );
      if (heads[0] !== value.fromHead || heads[1] !== value.toHead) {
        const diff = await runCommand(command, "env diff", { app: value.app, from: value.from, to: value.to });
        await answer(prefixed(staleDiffMessage(value), diff));
        return;
      }
      await answer(await runCommand(command, "env promote", { app: value.app, from: value.from, to: value.to }));
    },
  );
}

function prefixed(warning: string, message: Message): Message {
  const head = new MessageBuilder().section(warning).build();
  return { text: `${head.text}\n${message.text}`, blocks: [...head.blocks, ...message.blocks].slice(0, 50), error: true };
}
