import type { App } from "@slack/bolt";
import { configEditorCallback } from "../../../blocks/configs.ts";
import { formCallbackPrefix, formConfirmationCallbackPrefix } from "../../../blocks/modals.ts";
import { denyInvitationCallback } from "../../../blocks/invitations.ts";
import { denyRoleRequestCallback } from "../../../blocks/role-requests.ts";
import { denyMoveCallback } from "../../../blocks/moves.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { listenToForms } from "../routes.ts";
import { configEditorSubmitted } from "./configs.ts";
import { formConfirmed, formSubmitted } from "./form-submission.ts";
import { invitationDenied } from "./invitations.ts";
import { roleRequestDenied } from "./role-requests.ts";
import { moveDenied } from "./moves.ts";
import { outdatedForm } from "./outdated-form.ts";

/**
 * Registers the modal submissions. Each runs before its acknowledgement, because an error must
 * come back in it to keep the modal open; each is a quick database change. The config editor's
 * commit may wait for a push: it waits only so long (views/configs.ts). A modal submitted twice
 * changes once: the change records the view's id. Any other modal is answered as out of date.
 */
export function registerViews(app: App, dependencies: ListenerDependencies): void {
  listenToForms(app, [
    { id: new RegExp(`^${formCallbackPrefix}`), listener: formSubmitted(dependencies) },
    { id: new RegExp(`^${formConfirmationCallbackPrefix}`), listener: formConfirmed(dependencies) },
    { id: configEditorCallback, listener: configEditorSubmitted(dependencies) },
    { id: denyInvitationCallback, listener: invitationDenied(dependencies) },
    { id: denyRoleRequestCallback, listener: roleRequestDenied(dependencies) },
    { id: denyMoveCallback, listener: moveDenied(dependencies) },
  ], outdatedForm);
}
