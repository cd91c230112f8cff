import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from "@slack/bolt";
import type { Actor } from "../../../../core/platform.ts";
import { pickerOption } from "../../../blocks/modals.ts";
import { logFailure } from "../../../failures.ts";
import { actingIn } from "../../acting.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** A select menu lists at most 100 options. */
export const maxOptions = 100;

/** Answers a picker no route takes (one an earlier edgebot opened): it has no options. */
export async function noOptions({ ack }: SlackOptionsMiddlewareArgs<"block_suggestion">): Promise<void> {
  await ack({ options: [] });
}

/** Answers a picker with what `list` finds for the person; nothing when they cannot be known. */
export function picker(dependencies: ListenerDependencies, list: (actor: Actor, query: string) => Promise<string[]>) {
  return async ({ ack, body, context }: SlackOptionsMiddlewareArgs<"block_suggestion"> & AllMiddlewareArgs): Promise<void> => {
    const acting = actingIn(context);
    try {
      const who = await acting.who();
      if (who.kind === "unavailable") throw who.error;
      const found = who.kind === "known" ? await list(who.actor, body.value.trim().slice(0, 100)) : [];
      await ack({ options: found.slice(0, maxOptions).map(pickerOption) });
    } catch (error) {
      logFailure(error, dependencies.logger.child({ action: body.action_id }), "could not list a picker's options");
      await ack({ options: [] });
    }
  };
}
