import type { App, BlockAction, ButtonAction, OverflowAction } from "@slack/bolt";
import { buttonActions } from "../../../blocks/buttons.ts";
import { openFormAction } from "../../../blocks/modals.ts";
import { invitationActions, roleRequestActions } from "../../../blocks/notifications.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { button, listenToButtons } from "../routes.ts";
import { checkDnsButton, goLiveButton } from "./golive-buttons.ts";
import { approveInvitationButton, denyInvitationButton } from "./invitations.ts";
import { moveActions } from "../../../blocks/moves.ts";
import { approveMoveButton, denyMoveButton } from "./moves.ts";
import { openFormButton } from "./open-form.ts";
import { outdatedButton } from "./outdated-button.ts";
import { promoteButton } from "./promote-button.ts";
import { approveRoleRequestButton, denyRoleRequestButton } from "./role-requests.ts";

/**
 * Registers the buttons: those that open a form (on the Home tab, or an application's menu),
 * whose submission does the work, the Approve and Deny buttons of invitation and role requests,
 * and those that act at once. Any other button is answered as out of date.
 */
export function registerActions(app: App, dependencies: ListenerDependencies): void {
  listenToButtons(app, [
    button<BlockAction<ButtonAction | OverflowAction>>(new RegExp(`^${openFormAction}`), openFormButton(dependencies)),
    button<BlockAction<ButtonAction>>(invitationActions.approve, approveInvitationButton(dependencies)),
    button<BlockAction<ButtonAction>>(invitationActions.deny, denyInvitationButton(dependencies)),
    button<BlockAction<ButtonAction>>(roleRequestActions.approve, approveRoleRequestButton(dependencies)),
    button<BlockAction<ButtonAction>>(roleRequestActions.deny, denyRoleRequestButton(dependencies)),
    button<BlockAction<ButtonAction>>(moveActions.approve, approveMoveButton(dependencies)),
    button<BlockAction<ButtonAction>>(moveActions.deny, denyMoveButton(dependencies)),
    // Buttons that act at once, once per click (buttons.ts): Check again, Promote, and the Home tab's Go live and Check DNS.
    button<BlockAction<ButtonAction>>(buttonActions.checkAgain, goLiveButton(dependencies)),
    button<BlockAction<ButtonAction>>(new RegExp(`^${buttonActions.homeGoLive}(:|$)`), goLiveButton(dependencies)),
    button<BlockAction<ButtonAction>>(new RegExp(`^${buttonActions.homeCheckDns}(:|$)`), checkDnsButton(dependencies)),
    button<BlockAction<ButtonAction>>(buttonActions.promote, promoteButton(dependencies)),
  ], outdatedButton(dependencies));
}
