import type { ActionsBlock, Button, ConfirmationDialog } from "@slack/types";
import { z } from "zod";
import { code, escapeText, MessageBuilder, type Message } from "../message.ts";

// The buttons that do something at once (rather than open a form): "Check again" on go-live
// results and re-check messages, "Promote" on an environment diff, and the Home tab's "Go live"
// and "Check DNS". A button's value is the command it stands for, as JSON; a click checks it
// again (values are hostile input), runs as the person who clicked, and takes effect once.

/** Action ids of the buttons; on the Home tab, `:<env>` follows, for ids unique within a block. */
export const buttonActions = {
  checkAgain: "golive_check_again",
  promote: "env_promote",
  homeGoLive: "home_golive",
  homeCheckDns: "home_check_dns",
} as const;

// Slack's limits: a button's text, a value, a confirmation's texts; an actions block's elements.
const maxButtonText = 75;
const maxValue = 2000;
const maxConfirmText = 300;
/** An actions block holds at most this many elements. */
export const maxActionsElements = 25;

// The shapes a value may take: exactly the names edgebot writes, nothing else. Core checks meaning and authority.
const applicationRef = z.string().regex(/^[a-z0-9][a-z0-9-]{0,38}\/[a-z0-9][a-z0-9-]{0,38}$/);
const environment = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/);
const commit = z.string().regex(/^[0-9a-f]{40}$/);

/** "Check again" and the Home tab's "Go live": `golive <app> <env>`. The Home's carries the publication it was shown in. */
export const goLiveValue = z.strictObject({ app: applicationRef, env: environment, home: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional() });
export type GoLiveValue = z.infer<typeof goLiveValue>;

/** The Home tab's "Check DNS": each domain of one environment, as `dns check` checks one. */
export const checkDnsValue = goLiveValue;

/** "Promote": `env promote <app> <from> <to>`, with both heads as the diff showed them, so a stale diff promotes nothing. */
export const promoteValue = z.strictObject({ app: applicationRef, from: environment, to: environment, fromHead: commit, toHead: commit });
export type PromoteValue = z.infer<typeof promoteValue>;

/** A button's value read back with its schema; undefined when it is not one edgebot wrote. */
export function readButtonValue<T>(schema: z.ZodType<T>, raw: string | undefined): T | undefined {
  if (raw === undefined || raw.length > maxValue) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** "Check again" under go-live results and re-check messages: checks the environment's DNS now, as `golive` does. */
export function checkAgainButton(app: string, env: string): ActionsBlock {
  return actions([button({ actionId: buttonActions.checkAgain, text: "Check again", value: { app, env } satisfies GoLiveValue })]);
}

/** "Promote to <to>" under an environment diff; a confirmation first, since it changes what the edge serves. */
export function promoteButton(value: PromoteValue): ActionsBlock {
  const confirm = confirmation({
    title: `Promote into ${value.to}?`,
    text: `${value.from} of ${value.app} is merged into ${value.to}, as \`env promote ${value.app} ${value.from} ${value.to}\` does. Nothing is promoted if either changed since this diff.`,
    confirm: "Promote",
    style: "primary",
  });
  return actions([button({ actionId: buttonActions.promote, text: `Promote to ${value.to}`, value, style: "primary", confirm })]);
}

/**
 * The Home tab's buttons for one application: "Go live" (for those who may build) and "Check
 * DNS" for each environment that has domains. `home` names the publication, so a double click
 * takes effect once and the next publication's buttons work again. Undefined when no environment has a domain.
 */
export function homeEnvironmentButtons(app: string, environments: Array<{ name: string; domains: number }>, options: { canBuild: boolean; home: string }): ActionsBlock | undefined {
  const elements: Button[] = [];
  for (const { name, domains } of environments) {
    if (domains === 0) continue;
    const value = { app, env: name, home: options.home } satisfies GoLiveValue;
    const next = [
      ...(options.canBuild ? [button({ actionId: `${buttonActions.homeGoLive}:${name}`, text: `Go live: ${name}`, value })] : []),
      button({ actionId: `${buttonActions.homeCheckDns}:${name}`, text: `Check DNS: ${name}`, value }),
    ];
    if (elements.length + next.length > maxActionsElements) break;
    elements.push(...next);
  }
  return elements.length === 0 ? undefined : actions(elements);
}

/** The answer to a button whose value edgebot did not write: nothing was done. */
export function unreadableButtonMessage(instead: string): Message {
  return new MessageBuilder().section(`:warning: That button is not one edgebot made, or it is out of date: nothing was done. Type ${code(instead)} instead.`).build({ error: true });
}

/** The answer to a second click of the same button (a double click, or someone else's first). */
export function alreadyClickedMessage(instead: string): Message {
  return new MessageBuilder().section(`That button was already used, and took effect once: nothing more was done. To do it again, type ${code(instead)}.`).build();
}

/** The answer when an environment changed between the diff and the click on its "Promote". */
export function staleDiffMessage(value: PromoteValue): string {
  return `:warning: ${escapeText(value.app)} ${value.from} or ${value.to} changed since that diff: nothing was promoted. Here is what promoting brings now.`;
}

function actions(elements: Button[]): ActionsBlock {
  return { type: "actions", elements };
}

function button(input: { actionId: string; text: string; value: object; style?: "primary" | "danger"; confirm?: ConfirmationDialog }): Button {
  return {
    type: "button",
    action_id: input.actionId,
    text: plain(input.text, maxButtonText),
    value: JSON.stringify(input.value),
    ...(input.style === undefined ? {} : { style: input.style }),
    ...(input.confirm === undefined ? {} : { confirm: input.confirm }),
  };
}

/** Slack's confirmation dialog: asked before the click is sent. `danger` for what cannot be undone. */
export function confirmation(input: { title: string; text: string; confirm: string; style: "primary" | "danger" }): ConfirmationDialog {
  return {
    title: plain(input.title, 100),
    text: { type: "mrkdwn", text: input.text.length <= maxConfirmText ? input.text : `${input.text.slice(0, maxConfirmText - 1)}…` },
    confirm: plain(input.confirm, 30),
    deny: plain("Cancel", 30),
    style: input.style,
  };
}

function plain(text: string, limit: number): { type: "plain_text"; text: string } {
  return { type: "plain_text", text: text.length <= limit ? text : `${text.slice(0, limit - 1)}…` };
}
