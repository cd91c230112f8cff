import type { App } from "@slack/bolt";
import { configEditorCallback } from "../../../blocks/configs.ts";
import { formCallbackPrefix, formConfirmationCallbackPrefix } from "../../../blocks/modals.ts";
import { denyInvitationCallback } from "../../../blocks/invitations.ts";
import { denyRoleRequestCallback } from "../../../blocks/role-requests.ts";
import { denyMoveCallback } from "../../../blocks/moves.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { configEditorSubmitted } from "./configs.ts";
import { formConfirmed, formSubmitted } from "./form-submission.ts";
import { invitationDenied } from "./invitations.ts";
import { roleRequestDenied } from "./role-requests.ts";
import { moveDenied } from "./moves.ts";

/**
 * Registers the modal submissions. Each runs before its acknowledgement, because an error must
 * come back in it to keep the modal open; each is a quick database change. The config editor's
 * commit may wait for a push: it waits only so long (views/configs.ts). A modal submitted twice
 * changes once: the change records the view's id.
 */
export function registerViews(app: App, dependencies: ListenerDependencies): void {
  app.view({ callback_id: new RegExp(`^${formCallbackPrefix}`), type: "view_submission" }, formSubmitted(dependencies));
  app.view({ callback_id: new RegExp(`^${formConfirmationCallbackPrefix}`), type: "view_submission" }, formConfirmed(dependencies));
  app.view({ callback_id: configEditorCallback, type: "view_submission" }, configEditorSubmitted(dependencies));
  app.view({ callback_id: denyInvitationCallback, type: "view_submission" }, invitationDenied(dependencies));
  app.view({ callback_id: denyRoleRequestCallback, type: "view_submission" }, roleRequestDenied(dependencies));
  app.view({ callback_id: denyMoveCallback, type: "view_submission" }, moveDenied(dependencies));
}
