import { randomBytes } from "node:crypto";
import { listOrgApplications } from "../../core/applications.ts";
import type { Actor, Platform } from "../../core/platform.ts";
import { invitationsAwaiting } from "../../core/invitations.ts";
import { roleRequestsAwaiting } from "../../core/role-requests.ts";
import { homeApplicationsPerOrg, homeRequestsShown, homeView } from "../blocks/home.ts";
import { emailMissing } from "../blocks/identity.ts";
import { code } from "../message.ts";
import type { SlackBot } from "./speaker.ts";

/** Publishes a person's Home tab: their orgs, applications, environments and domains as they are now. */
export async function publishHome(
  bot: SlackBot,
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
  // Each publication's buttons are its own: a double click acts once, the next publication's buttons act again.
  const publication = randomBytes(9).toString("base64url");
  await bot.publishHome(person.slackUserId, homeView(orgs, { slashCommand: dependencies.slashCommand, awaiting, roleRequests, publication }));
}

/** The Home tab for someone whose Slack profile shows no email: edgebot cannot know who they are yet. */
export async function publishHomeWithoutEmail(bot: SlackBot, slackUserId: string, slashCommand: string): Promise<void> {
  const text = `${emailMissing} Then open this tab again, or type ${code(`${slashCommand} help`)}.`;
  await bot.publishHome(slackUserId, { type: "home", blocks: [{ type: "section", text: { type: "mrkdwn", text: `:warning: ${text}` } }] });
}
