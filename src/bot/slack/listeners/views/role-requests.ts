import type { App } from "@slack/bolt";
import { decideRoleRequest } from "../../../../core/role-requests.ts";
import { denyRoleRequestCallback, roleRequestOutcomeMessage } from "../../../blocks/role-requests.ts";
import { registerDenyWithReason, type DenyViewDependencies } from "./deny-reason.ts";

/** The reason modal of a role request's Deny button: its submission denies the request, once. */
export function registerRoleRequestViews(app: App, dependencies: DenyViewDependencies): void {
  registerDenyWithReason(app, dependencies, {
    callbackId: denyRoleRequestCallback,
    idKey: "request",
    what: "a role request",
    deny: (platform, { actor, id, reason }) => decideRoleRequest(platform, { actor, id, decision: "deny", reason }),
    outcomeMessage: roleRequestOutcomeMessage,
  });
}
