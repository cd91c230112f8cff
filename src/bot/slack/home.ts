import type { webApi } from "@slack/bolt";
import { listOrgApplications } from "../../core/applications.ts";
import type { Actor, Platform } from "../../core/platform.ts";
import { invitationsAwaiting } from "../../core/invitations.ts";
import { roleRequestsAwaiting } from "../../core/role-requests.ts";
import { homeApplicationsPerOrg, homeRequestsShown, homeView } from "../blocks/home.ts";
import { emailMissing } from "../blocks/identity.ts";
import { code } from "../message.ts";

/** Publishes a person's Home tab: their orgs, applications, environments and domains as they are now. */
export async function publishHome(
  client: webApi.WebClient,
  dependencies: { platform: Platform; slashCommand: string },
  person: {
    /** Their Slack user id, whose Home tab it is. */
    slackUserId: string;
    actor: Actor;
  },
): Promise<void> {
  const [orgs, awaiting, roleRequests] = await Promise.all([
    listOrgApplications(dependencies.platform, { actor: person.actor, applicationsPerOrg: homeApplicationsPerOrg }),
    invitationsAwaiting(dependencies.platform, { actor: person.actor, limit: homeRequestsShown }),
    roleRequestsAwaiting(dependencies.platform, { actor: person.actor, limit: homeRequestsShown }),
  ]);
  await client.views.publish({ user_id: person.slackUserId, view: homeView(orgs, { slashCommand: dependencies.slashCommand, awaiting, roleRequests }) });
}

/** The Home tab for someone whose Slack profile shows no email: edgebot cannot know who they are yet. */
export async function publishHomeWithoutEmail(client: webApi.WebClient, slackUserId: string, slashCommand: string): Promise<void> {
  const text = `${emailMissing} Then open this tab again, or type ${code(`${slashCommand} help`)}.`;
  await client.views.publish({ user_id: slackUserId, view: { type: "home", blocks: [{ type: "section", text: { type: "mrkdwn", text: `:warning: ${text}` } }] } });
}
