import type { ApplicationDetails, ApplicationSummary } from "../../core/applications.ts";
import type { WaitingClaim } from "../../core/claims.ts";
import type { DomainEntry } from "../../core/domains.ts";
import type { EnvironmentDetails, EnvironmentSummary } from "../../core/environments.ts";
import { domainToUnicode } from "node:url";
import { code, escapeText, MessageBuilder, say, when, type Message } from "../message.ts";
import { plural } from "./orgs.ts";

const statusIcon: Record<string, string> = {
  pending: ":hourglass_flowing_sand: pending",
  passing: ":large_green_circle: passing",
  failing: ":red_circle: failing",
  unknown: ":grey_question: unknown",
};

/** A hostname as stored, with its Unicode form when it is an IDN. */
export function hostnameLabel(hostname: string): string {
  const unicode = domainToUnicode(hostname);
  return unicode !== "" && unicode !== hostname ? `${hostname} (${escapeText(unicode)})` : hostname;
}

export function dnsStatus(status: string): string {
  return statusIcon[status] ?? status;
}

export function applicationCreatedMessage(created: { ref: string; hostname: string; reducedFrom?: string; origin: string; newOrg: boolean; org: string }): Message {
  const builder = new MessageBuilder().section(
    `:white_check_mark: Created *${created.ref}*: production serves *${hostnameLabel(created.hostname)}*, fetching from ${code(created.origin)}.`,
  );
  if (created.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${created.hostname} is what was added.`);
  if (created.newOrg) builder.context(`Created the org ${created.org} too; you are its owner.`);
  return builder.context(`Next: ${code(`env create ${created.ref} staging`)} · ${code(`app show ${created.ref}`)}`).build();
}

export function applicationListMessage(scope: string, applications: ApplicationSummary[]): Message {
  if (applications.length === 0) return say(`No applications in ${scope} yet. Create one with ${code("app create <hostname>")}.`);
  return new MessageBuilder()
    .section(`*Applications in ${scope}* (${applications.length})`)
    .list(
      applications.map((app) => `*${app.ref}* · ${plural(app.environments, "environment")} · ${plural(app.domains, "domain")} · origin ${code(app.origin)}`),
      { limit: 200, noun: "applications" },
    )
    .build();
}

export function applicationDetailsMessage(app: ApplicationDetails): Message {
  const builder = new MessageBuilder()
    .section(`*${app.ref}* · origin ${code(app.origin)} · your role: ${app.role}`)
    .context(`Created ${when(app.createdAt)}${app.channelId ? ` · notifications in <#${app.channelId}>` : ""}`);
  if (app.splitOf !== undefined) builder.section(`Split of *${app.splitOf.ref}*: handles ${code(app.splitOf.prefix)} on its domains.`);
  for (const environment of app.environments.slice(0, 40)) {
    const heading = `*${environment.name}*${environment.basedOn ? ` (from ${environment.basedOn})` : ""} · ${environment.liveAt ? `live since ${when(environment.liveAt)}` : "not live"}`;
    const domains = environment.domains.slice(0, 50).map((domain) => `• ${hostnameLabel(domain.hostname)} — ${dnsStatus(domain.dnsStatus)}`);
    if (environment.domains.length > 50) domains.push(`…and ${environment.domains.length - 50} more domains`);
    builder.section([heading, ...(domains.length > 0 ? domains : ["_no domains_"])].join("\n"));
  }
  if (app.environments.length > 40) builder.context(`…and ${app.environments.length - 40} more environments: ${code(`env list ${app.ref}`)}`);
  if (app.splits.length > 0) {
    builder.section("*Splits* (URL prefixes of these domains handled by other applications)");
    builder.list(app.splits.map((split) => `${code(split.prefix)} → *${split.ref}*`), { limit: 40, noun: "splits" });
  }
  return builder.build();
}

export function environmentListMessage(ref: string, environments: EnvironmentSummary[]): Message {
  return new MessageBuilder()
    .section(`*Environments of ${ref}* (${environments.length})`)
    .list(
      environments.map(
        (environment) =>
          `*${environment.name}*${environment.basedOn ? ` (from ${environment.basedOn})` : ""} · ${plural(environment.domains, "domain")} · ${environment.liveAt ? "live" : "not live"}`,
      ),
      { noun: "environments" },
    )
    .build();
}

export function environmentDetailsMessage(environment: EnvironmentDetails): Message {
  return new MessageBuilder()
    .section(`*${environment.ref} ${environment.name}*${environment.basedOn ? ` (from ${environment.basedOn})` : ""} · ${environment.liveAt ? `live since ${when(environment.liveAt)}` : "not live"}`)
    .list(
      environment.domains.map((domain) => `${hostnameLabel(domain.hostname)} — ${dnsStatus(domain.dnsStatus)}${domain.dnsCheckedAt ? ` (checked ${when(domain.dnsCheckedAt)})` : ""}`),
      { noun: "domains" },
    )
    .context(environment.domains.length === 0 ? `No domains yet: ${code(`domain add ${environment.ref} ${environment.name} <hostname>`)}` : `Created ${when(environment.createdAt)}`)
    .build();
}

export function domainListMessage(ref: string, env: string | undefined, domains: DomainEntry[], claims: WaitingClaim[] = []): Message {
  const scope = env === undefined ? ref : `${ref} ${env}`;
  if (domains.length === 0 && claims.length === 0) return say(`${scope} has no domains yet.`);
  const builder = new MessageBuilder();
  if (domains.length === 0) builder.section(`${scope} has no domains yet.`);
  else {
    builder
      .section(`*Domains of ${scope}* (${domains.length})`)
      .list(
        domains.map((domain) => `${hostnameLabel(domain.hostname)}${env === undefined ? ` · ${domain.environment}` : ""} — ${dnsStatus(domain.dnsStatus)}`),
        { limit: 200, noun: "domains" },
      );
  }
  if (claims.length > 0) {
    builder.section(`*Claimed, waiting for DNS* (${claims.length}): each moves here once its TXT record is published.`).list(
      claims.map((claim) => `${hostnameLabel(claim.hostname)}${env === undefined ? ` · ${claim.environment}` : ""} — TXT ${code(claim.record.name)} = ${code(claim.record.value)}${claim.lastLook === "missing" ? " (not there at the last look)" : ""}`),
      { limit: 50, noun: "claims" },
    );
  }
  return builder.build();
}
