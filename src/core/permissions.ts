import type { Role } from "../db/schema.ts";
import { Forbidden, NotFound } from "./errors.ts";

/** The actions of SPEC §1's permission table. */
export type Action =
  | "view" // see the org, its apps, environments, domains, members
  | "build" // create/delete apps, environments, domains; edit/promote config; run go-live checks
  | "release" // change production's configuration: edit it, promote into it, push to it
  | "request_invitation"
  | "administer" // approve/deny invitations, change roles, remove members, set channels, see audit
  | "own"; // rename org, set billing contact, delete org, set approval policy

const allowedRoles: Record<Action, readonly Role[]> = {
  view: ["owner", "admin", "developer", "viewer"],
  build: ["owner", "admin", "developer"],
  release: ["owner", "admin"],
  request_invitation: ["owner", "admin", "developer"],
  administer: ["owner", "admin"],
  own: ["owner"],
};

const describe: Record<Action, string> = {
  view: "see this org",
  build: "change applications, environments or domains",
  release: "change production's configuration",
  request_invitation: "invite people",
  administer: "manage members, channels or the audit log",
  own: "rename, bill or delete the org or set its approval policy",
};

export function may(role: Role, action: Action): boolean {
  return allowedRoles[action].includes(role);
}

/**
 * Checks the actor's role in an org. No membership reads as "not found", so an org
 * you are not in looks the same as one that does not exist.
 */
export function authorize(role: Role | null | undefined, action: Action, notFound: string): Role {
  if (!role) throw new NotFound(notFound);
  if (!may(role, action)) {
    const who = allowedRoles[action].join(" or ");
    throw new Forbidden(`you are ${article(role)} ${role} here: only ${article(allowedRoles[action][0]!)} ${who} can ${describe[action]}`);
  }
  return role;
}

/**
 * Checks that the actor may change an environment's configuration (an edit, a promotion into
 * it, a push): developers and above for any environment but production, which takes an
 * owner or an admin. One rule for every way configuration changes.
 */
export function authorizeConfigChange(role: Role | null | undefined, env: string, notFound: string): Role {
  return authorize(role, configChange(env), notFound);
}

/** What changing an environment's configuration takes, however it is changed (edit, promote, push). */
export function configChange(env: string): Action {
  return env === "production" ? "release" : "build";
}

/** "a" or "an", for a role: "an admin", "a viewer". */
export function article(role: Role): string {
  return role === "owner" || role === "admin" ? "an" : "a";
}
