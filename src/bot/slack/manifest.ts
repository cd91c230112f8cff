import { slackEventsPath, slackOAuthRedirectPath } from "./paths.ts";
import { botScopes } from "./scopes.ts";

/** The Slack app manifest edgebot needs (see https://api.slack.com/reference/manifests), as data. */
export interface SlackManifest {
  display_information: { name: string; description: string; background_color: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean };
    bot_user: { display_name: string; always_online: boolean };
    slash_commands: Array<{ command: string; description: string; usage_hint: string; should_escape: boolean; url?: string }>;
  };
  oauth_config: { redirect_urls?: string[]; scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
    org_deploy_enabled: boolean;
    socket_mode_enabled: boolean;
    token_rotation_enabled: boolean;
  };
}

/** The events edgebot listens to: the App Home, and (many workspaces) an uninstall or a revoked token. */
export const botEvents = ["app_home_opened", "app_uninstalled", "tokens_revoked"];

/**
 * The manifest for one way of running: Socket Mode (no public URL; for development), or HTTP
 * with Slack's request URLs and the OAuth redirect at `publicUrl` (see `publicBaseUrl`).
 */
export function slackManifest(options: { slashCommand: string; publicUrl?: string }): SlackManifest {
  const events = options.publicUrl === undefined ? undefined : `${options.publicUrl}${slackEventsPath}`;
  return {
    display_information: {
      name: "edgebot",
      description: "Orgs, applications, environments, domains and go-live for the edge, from Slack.",
      background_color: "#1d3557",
    },
    features: {
      app_home: { home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: true },
      bot_user: { display_name: "edgebot", always_online: true },
      slash_commands: [
        {
          command: options.slashCommand,
          ...(events ? { url: events } : {}),
          description: "Manage client orgs, applications, environments and domains",
          usage_hint: "help | app create <hostname> | app list | env create <app> <env> | domain add <app> <env> <hostname>",
          // Slack then sends users as <@U…|name>, channels as <#C…|name> and links as <url|text>.
          should_escape: true,
        },
      ],
    },
    oauth_config: {
      ...(options.publicUrl === undefined ? {} : { redirect_urls: [`${options.publicUrl}${slackOAuthRedirectPath}`] }),
      scopes: { bot: botScopes },
    },
    settings: {
      event_subscriptions: { ...(events ? { request_url: events } : {}), bot_events: botEvents },
      // Buttons, modals, and the pickers in modals.
      interactivity: { is_enabled: true, ...(events ? { request_url: events, message_menu_options_url: events } : {}) },
      org_deploy_enabled: false,
      socket_mode_enabled: options.publicUrl === undefined,
      token_rotation_enabled: false,
    },
  };
}

/**
 * The public base URL as the manifest takes it: https (Slack sends requests only there), a host,
 * and at most a path prefix, without a trailing slash; a clear error for anything else.
 */
export function publicBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--url must be a URL like https://bot.example.com, not ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "https:") throw new Error(`--url must use https: Slack sends its requests only to https URLs (got ${url.protocol.slice(0, -1)})`);
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") throw new Error("--url must be a base URL: no user, password, query or fragment");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
