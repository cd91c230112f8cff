import type { AllMiddlewareArgs, App, BlockAction, SlackActionMiddlewareArgs, SlackOptionsMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";

/**
 * Bolt runs every listener's chain of matchers for every request it receives: with a Bolt
 * listener for each button and each form, every slash command went through the chains of 20
 * other listeners beside its own (an eighth of the App's CPU per command, and a fifth of what
 * it allocated). edgebot gives Bolt one listener per kind of request instead, and finds the one
 * that handles it in a table of its own, by the id Slack sends: a button's `action_id`, a form's
 * `callback_id`, a picker's `action_id`. A request no route takes (a button or form of an
 * earlier edgebot's, or one edgebot never made) goes to the kind's `unrouted` listener, which
 * answers it at once and does nothing.
 */

/** The ids a route takes: exactly this one, or every one the pattern matches. */
export type RouteId = string | RegExp;

type Listener<Args> = (args: Args & AllMiddlewareArgs) => Promise<void>;

/** A listener and the ids it handles. */
export interface Route<Args> {
  id: RouteId;
  listener: Listener<Args>;
}

export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction>;
export type FormArgs = SlackViewMiddlewareArgs<ViewSubmitAction>;
type PickerArgs = SlackOptionsMiddlewareArgs<"block_suggestion">;

/**
 * A button's route. Its listener names the elements it is for (a button, an overflow menu): Bolt
 * passes on whatever element Slack sent, so the element's type is the listener's to know, as
 * with Bolt's own `app.action<…>(id, listener)`.
 */
export function button<Action extends BlockAction>(id: RouteId, listener: Listener<SlackActionMiddlewareArgs<Action>>): Route<ButtonArgs> {
  return { id, listener: listener as unknown as Listener<ButtonArgs> };
}

/** Clicks on buttons (`block_actions`), each to the first route that takes its `action_id`. */
export function listenToButtons(app: App, routes: Array<Route<ButtonArgs>>, unrouted: Listener<ButtonArgs>): void {
  app.action<BlockAction>({ type: "block_actions" }, async (args) => (routeFor(routes, args.action.action_id)?.listener ?? unrouted)(args));
}

/** Submitted forms (`view_submission`), each to the first route that takes its `callback_id`. */
export function listenToForms(app: App, routes: Array<Route<FormArgs>>, unrouted: Listener<FormArgs>): void {
  app.view<ViewSubmitAction>({ type: "view_submission" }, async (args) => (routeFor(routes, args.view.callback_id)?.listener ?? unrouted)(args));
}

/** Pickers asking for their options (`block_suggestion`), each to the first route that takes its `action_id`. */
export function listenToPickers(app: App, routes: Array<Route<PickerArgs>>, unrouted: Listener<PickerArgs>): void {
  app.options<"block_suggestion">({ type: "block_suggestion" }, async (args) => (routeFor(routes, args.body.action_id)?.listener ?? unrouted)(args));
}

function routeFor<Args>(routes: Array<Route<Args>>, id: string): Route<Args> | undefined {
  return routes.find((route) => (typeof route.id === "string" ? route.id === id : route.id.test(id)));
}
