/** What a person whose Slack profile shows no email is told, wherever they meet edgebot. */
export const emailMissing =
  "edgebot needs your email address to know who you are, and your Slack profile shows none. Add one to your profile (or ask your Slack admin to let apps read it).";
