/** Where Slack sends slash commands, interactions and events. */
export const slackEventsPath = "/slack/events";
/** Multi-workspace mode: where an admin starts installing edgebot in their workspace. */
export const slackInstallPath = "/slack/install";
/** Multi-workspace mode: where Slack sends the admin back with the code to exchange (the app's Redirect URL). */
export const slackOAuthRedirectPath = "/slack/oauth_redirect";
