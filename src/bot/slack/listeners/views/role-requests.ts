import { decideRoleRequest } from "../../../../core/role-requests.ts";
import { roleRequestOutcomeMessage } from "../../../blocks/role-requests.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { denyWithReason } from "./deny-reason.ts";

/** The reason modal of a role request's Deny button: its submission denies the request, once. */
export function roleRequestDenied(dependencies: ListenerDependencies) {
  return denyWithReason(dependencies, {
    idKey: "request",
    what: "a role request",
    deny: (platform, { actor, id, reason }) => decideRoleRequest(platform, { actor, id, decision: "deny", reason }),
    outcomeMessage: roleRequestOutcomeMessage,
  });
}
