import type { ColumnType, Generated } from "kysely";

export type Role = "owner" | "admin" | "developer" | "viewer";
export type DnsStatus = "pending" | "passing" | "failing" | "unknown";

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface UsersTable {
  id: Generated<number>;
  /** From the chat profile; several users may share one (one per workspace, say). */
  email: string;
  /** False when the chat says the email is unconfirmed: such an email matches nobody. */
  email_confirmed: ColumnType<boolean, boolean | undefined, boolean>;
  display_name: string;
  created_at: CreatedAt;
}

export interface IdentityLinkCodesTable {
  code_hash: string;
  user_id: number;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | undefined, Date>;
}

export interface UserIdentitiesTable {
  team_id: string;
  chat_user_id: string;
  user_id: number;
  created_at: CreatedAt;
}

export interface OrgsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  billing_email: string | null;
  channel_id: string | null;
  /** The chat workspace `channel_id` belongs to. */
  channel_team_id: string | null;
  created_by: number | null;
  created_at: CreatedAt;
  /** Approvals from owners or admins other than the requester that granting admin or owner takes (`org policy`, 1 to 3). */
  approvals_required: ColumnType<number, number | undefined, number>;
}

export interface MembershipsTable {
  org_id: number;
  user_id: number;
  role: Role;
  created_at: CreatedAt;
}

export interface ApplicationsTable {
  id: Generated<number>;
  org_id: number;
  slug: string;
  origin: string;
  channel_id: string | null;
  /** The chat workspace `channel_id` belongs to. */
  channel_team_id: string | null;
  /** The application this one was split from (`app split`); null for an original. */
  split_of: number | null;
  /** The URL prefix of the original's domains this split handles, like `/blog/`. */
  split_prefix: string | null;
  created_by: number | null;
  created_at: CreatedAt;
}

export interface EnvironmentsTable {
  id: Generated<number>;
  application_id: number;
  name: string;
  based_on: string | null;
  live_at: Date | null;
  created_by: number | null;
  created_at: CreatedAt;
}

export interface DomainsTable {
  id: Generated<number>;
  environment_id: number;
  hostname: string;
  dns_status: ColumnType<DnsStatus, DnsStatus | undefined, DnsStatus>;
  created_by: number | null;
  created_at: CreatedAt;
}

export interface AuditEventsTable {
  id: Generated<number>;
  org_id: number;
  org_slug: string;
  actor_id: number | null;
  action: string;
  target: string;
  details: ColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
}

export interface OutboxTable {
  id: Generated<number>;
  /** No foreign key: a message about a deleted org still goes out. */
  org_id: number | null;
  /** What happened, like `app.created`; it picks the renderer. */
  kind: string;
  /** The structured event (who, what, names); never Slack blocks. */
  payload: ColumnType<Record<string, unknown>, string, string>;
  channel_id: string;
  /** The chat workspace of `channel_id`, whose bot token posts it; null for rows from before workspaces were recorded. */
  team_id: string | null;
  /** The user whose change caused it (no foreign key, like org_id). */
  actor_id: number | null;
  created_at: CreatedAt;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  last_error: string | null;
  delivered_at: Date | null;
  message_ts: string | null;
  /** The conversation Slack put the message in (a DM channel for a message to a person). */
  message_channel_id: string | null;
  given_up_at: Date | null;
}

/** A request already carried out, so that submitting it again changes nothing. */
export interface RequestKeysTable {
  key: string;
  created_at: CreatedAt;
}

/** One installation of the Slack app: a workspace's, or an enterprise's for an org-wide install. */
export interface SlackInstallationsTable {
  id: Generated<number>;
  /** Null for an org-wide install. */
  team_id: string | null;
  enterprise_id: string | null;
  is_enterprise_install: boolean;
  /** Encrypted, naming its key and bound to its workspace (src/bot/slack/token-cipher.ts). */
  bot_token: Uint8Array;
  bot_id: string;
  bot_user_id: string;
  /** Comma-separated. */
  bot_scopes: string;
  installer_user_id: string | null;
  installed_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type InvitationStatus = "pending" | "approved" | "denied" | "expired" | "accepted";

/** An invitation to an org (migrations/0005_invitations.ts). */
export interface InvitationsTable {
  id: Generated<number>;
  org_id: number;
  role: Exclude<Role, "owner">;
  invitee_email: string;
  /** The user an invitation by mention names; null for one by email, which any confirmed holder of it may redeem. */
  invitee_user_id: ColumnType<number | null, number | null | undefined, number | null>;
  requested_by: number | null;
  status: InvitationStatus;
  decided_by: number | null;
  decided_at: Date | null;
  deny_reason: string | null;
  code_hash: string | null;
  accepted_by: number | null;
  accepted_at: Date | null;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | undefined, Date>;
  /** Approvals it takes: 0 when approved as made, 1 for a developer's request, the org's threshold for an admin. */
  approvals_required: ColumnType<number, number | undefined, number>;
}

/** One owner's or admin's approval of an invitation; the key makes each person count once (migrations/0011). */
export interface InvitationApprovalsTable {
  invitation_id: number;
  approver_id: number;
  approved_at: CreatedAt;
}

export type RoleRequestStatus = "pending" | "approved" | "denied" | "expired";

/** A request to make a member admin or owner, waiting for the org's threshold of approvals (migrations/0011). */
export interface RoleRequestsTable {
  id: Generated<number>;
  org_id: number;
  member_id: number;
  from_role: Role;
  role: "owner" | "admin";
  requested_by: number | null;
  status: RoleRequestStatus;
  approvals_required: number;
  decided_by: number | null;
  decided_at: Date | null;
  deny_reason: string | null;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | undefined, Date>;
}

export interface RoleRequestApprovalsTable {
  request_id: number;
  approver_id: number;
  approved_at: CreatedAt;
}

/** One DNS verification of one domain (migrations/0007_dns_checks.ts). */
export interface DnsChecksTable {
  id: Generated<number>;
  domain_id: number;
  hostname: string;
  verdict: "passes" | "fails" | "could_not_check";
  expected: string;
  found: ColumnType<string[], string, string>;
  record_to_create: string | null;
  checked_by: number | null;
  trigger: "golive" | "recheck";
  checked_at: CreatedAt;
}

/** A personal access token for git over HTTP (migrations/0009_access_tokens.ts); the token itself is never stored. */
export interface AccessTokensTable {
  id: Generated<number>;
  user_id: number;
  /** Hex SHA-256 of the token. */
  token_hash: string;
  /** The first characters after the prefix, to tell tokens apart. */
  hint: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** A claim of a hostname by DNS proof (migrations/0012_hostname_claims.ts). */
export interface HostnameClaimsTable {
  id: Generated<number>;
  hostname: string;
  /** The claiming org: one claim of a hostname is open per org. */
  org_id: number;
  /** Where the hostname goes once the record is seen. */
  environment_id: number;
  /** The TXT record's value; public once published, so stored as it is. */
  token: string;
  status: ColumnType<"open" | "claimed", "open" | "claimed" | undefined, "open" | "claimed">;
  created_by: number | null;
  created_at: CreatedAt;
  checked_at: Date | null;
  last_verdict: "found" | "missing" | "could_not_check" | null;
  claimed_at: Date | null;
}

export type ApplicationMoveStatus = "pending" | "approved" | "denied" | "expired";

/** A request to move an application to another org (migrations/0013_application_moves.ts). */
export interface ApplicationMovesTable {
  id: Generated<number>;
  application_id: number;
  from_org_id: number;
  to_org_id: number;
  requested_by: number | null;
  status: ApplicationMoveStatus;
  decided_by: number | null;
  decided_at: Date | null;
  deny_reason: string | null;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | undefined, Date>;
}

/** Every table edgebot keeps, as Kysely sees them. */
export interface Database {
  users: UsersTable;
  user_identities: UserIdentitiesTable;
  identity_link_codes: IdentityLinkCodesTable;
  orgs: OrgsTable;
  memberships: MembershipsTable;
  applications: ApplicationsTable;
  environments: EnvironmentsTable;
  domains: DomainsTable;
  audit_events: AuditEventsTable;
  outbox: OutboxTable;
  slack_installations: SlackInstallationsTable;
  request_keys: RequestKeysTable;
  invitations: InvitationsTable;
  invitation_approvals: InvitationApprovalsTable;
  role_requests: RoleRequestsTable;
  role_request_approvals: RoleRequestApprovalsTable;
  dns_checks: DnsChecksTable;
  access_tokens: AccessTokensTable;
  hostname_claims: HostnameClaimsTable;
  application_moves: ApplicationMovesTable;
}
