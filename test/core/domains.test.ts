import { describe, expect, it } from "vitest";
import { createApplication, showApplication } from "../../src/core/applications.ts";
import { listAuditEvents } from "../../src/core/audit.ts";
import { addDomain, listDomains, removeDomain } from "../../src/core/domains.ts";
import { createEnvironment, showEnvironment } from "../../src/core/environments.ts";
import { Conflict, Invalid, NotFound } from "../../src/core/errors.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, failure, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

async function buildApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref, hostname } = await buildApplication(world.platform, owner, org);
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
  return { owner, org, ref, hostname };
}

describe("domain add", () => {
  it("adds a hostname to an environment, pending DNS, and audits it", async () => {
    const { owner, org, ref } = await buildApp();
    const hostname = `${unique("stage")}.example.com`;
    expect(await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname })).toEqual({ ref, env: "staging", hostname });
    expect((await showEnvironment(world.platform, { actor: owner, app: ref, env: "staging" })).domains).toEqual([{ hostname, dnsStatus: "pending", dnsCheckedAt: null }]);
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "domain.add", target: hostname, details: { app: ref, env: "staging" }, actor: { email: owner.email } });
  });

  it("stores the hostname lowercase, as punycode, without a trailing dot, and says when a URL was reduced", async () => {
    const { owner, ref } = await buildApp();
    const label = unique("münchen");
    const ascii = new URL(`http://${label}.de`).hostname;
    expect(await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: `${label.toUpperCase()}.DE.` })).toMatchObject({ hostname: ascii });
    const www = `${unique("www")}.example.com`;
    expect(await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: `https://${www}/shop?x=1` })).toEqual({
      ref,
      env: "staging",
      hostname: www,
      reducedFrom: `https://${www}/shop?x=1`,
    });
    const { domains } = await listDomains(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(domains.map((domain) => domain.hostname).sort()).toEqual([ascii, www].sort());
  });

  it("refuses an environment that does not exist", async () => {
    const { owner, ref } = await buildApp();
    const before = await snapshot(world.platform);
    const error = await failure(addDomain(world.platform, { actor: owner, app: ref, env: "develop", hostname: `${unique("x")}.example.com` }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toBe(`${ref} has no environment develop`);
    expect(await snapshot(world.platform)).toEqual(before);
  });
});

describe("a hostname is served by one environment in the whole system", () => {
  it("names the environment when it is in your own org", async () => {
    const { owner, ref, hostname } = await buildApp();
    const before = await snapshot(world.platform);
    for (const variant of [hostname, hostname.toUpperCase(), `${hostname}.`, `https://${hostname}/`]) {
      const error = await failure(addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: variant }));
      expect(error).toBeInstanceOf(Conflict);
      expect(error.message).toBe(`${hostname} is already served by ${ref} production`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("says nothing about another org that serves it, only how to claim it by DNS proof", async () => {
    const rival = await buildApp();
    const { owner, ref } = await buildApp();
    const before = await snapshot(world.platform);
    const copy = unique("copy");
    const taken = `${rival.hostname} is already served by another application on the platform. If you control its DNS, claim it:`;
    const attempts: Array<[() => Promise<unknown>, string]> = [
      [() => addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: rival.hostname }), `${taken} run domain claim ${ref} staging ${rival.hostname} and create the TXT record it shows`],
      [
        () => createEnvironment(world.platform, { actor: owner, app: ref, env: "preview", domain: rival.hostname }),
        `${taken} create the environment without --domain, then run domain claim ${ref} preview ${rival.hostname} and create the TXT record it shows`,
      ],
      [
        () => createApplication(world.platform, { actor: owner, org: ref.split("/")[0], hostname: rival.hostname, name: copy }),
        `${taken} create the application with another of your hostnames, then run domain claim ${ref.split("/")[0]}/${copy} production ${rival.hostname} and create the TXT record it shows`,
      ],
    ];
    for (const [attempt, message] of attempts) {
      const error = await failure(attempt());
      expect(error).toBeInstanceOf(Conflict);
      expect(error.message).toBe(message);
      expect(error.message).not.toContain(rival.org);
      expect(error.message).not.toContain(rival.ref.split("/")[1]);
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("lets only one of two environments claim a hostname at once", async () => {
    const { owner, ref } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "preview" });
    const hostname = `${unique("race")}.example.com`;
    const results = await Promise.allSettled([
      addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname }),
      addDomain(world.platform, { actor: owner, app: ref, env: "preview", hostname }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(Conflict);
    expect(lost.reason.message).toMatch(new RegExp(`^${hostname} is already served by ${ref} (staging|preview)$`));
    const rows = await world.platform.db.selectFrom("domains").select("hostname").where("hostname", "=", hostname).execute();
    expect(rows).toHaveLength(1);
  });
});

describe("domain remove", () => {
  it("removes a hostname from its environment and audits it", async () => {
    const { owner, org, ref } = await buildApp();
    const hostname = `${unique("gone")}.example.com`;
    await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname });
    expect(await removeDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: hostname.toUpperCase() })).toEqual({ ref, env: "staging", hostname });
    expect((await listDomains(world.platform, { actor: owner, app: ref, env: "staging" })).domains).toEqual([]);
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "domain.remove", target: hostname, details: { app: ref, env: "staging" } });
  });

  it("only removes a hostname from the environment that serves it", async () => {
    const { owner, ref, hostname } = await buildApp();
    const rival = await buildApp();
    const before = await snapshot(world.platform);
    for (const [env, name] of [["staging", hostname], ["production", rival.hostname], ["production", `${unique("never")}.example.com`]] as const) {
      const error = await failure(removeDomain(world.platform, { actor: owner, app: ref, env, hostname: name }));
      expect(error).toBeInstanceOf(NotFound);
      expect(error.message).toBe(`${name} is not a domain of ${ref} ${env}`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });
});

describe("domain list", () => {
  it("lists an application's domains by environment, or one environment's", async () => {
    const { owner, ref, hostname } = await buildApp();
    const staging = `${unique("stage")}.example.com`;
    await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: staging });
    const all = await listDomains(world.platform, { actor: owner, app: ref });
    expect(all).toMatchObject({ ref, env: undefined });
    expect(all.domains.map(({ hostname, environment, dnsStatus }) => ({ hostname, environment, dnsStatus }))).toEqual([
      { hostname, environment: "production", dnsStatus: "pending" },
      { hostname: staging, environment: "staging", dnsStatus: "pending" },
    ]);
    const one = await listDomains(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(one.domains.map((domain) => domain.hostname)).toEqual([staging]);
    await expect(listDomains(world.platform, { actor: owner, app: ref, env: "develop" })).rejects.toThrow(new NotFound(`${ref} has no environment develop`));
  });

  it("lists an environment with no domains as empty", async () => {
    const { owner, ref } = await buildApp();
    expect(await listDomains(world.platform, { actor: owner, app: ref, env: "staging" })).toEqual({ ref, env: "staging", domains: [], claims: [] });
  });
});

describe("<app> without org/", () => {
  it("resolves when only one of your orgs has an application of that name", async () => {
    const user = await buildUser(world.platform);
    const home = await buildOrg(world.platform, user);
    const other = await buildOrg(world.platform, user);
    const slug = unique("shop");
    await createApplication(world.platform, { actor: user, org: home, hostname: `${unique("h")}.example.com`, name: slug });
    // An org you are not in may use the same name: it neither resolves nor makes the name ambiguous.
    const stranger = await buildUser(world.platform);
    const strangersOrg = await buildOrg(world.platform, stranger);
    await createApplication(world.platform, { actor: stranger, org: strangersOrg, hostname: `${unique("s")}.example.com`, name: slug });

    expect((await showApplication(world.platform, { actor: user, app: slug })).ref).toBe(`${home}/${slug}`);
    const hostname = `${unique("bare")}.example.com`;
    expect(await addDomain(world.platform, { actor: user, app: slug, env: "production", hostname })).toMatchObject({ ref: `${home}/${slug}` });
    expect(await createEnvironment(world.platform, { actor: user, app: slug, env: "staging" })).toMatchObject({ ref: `${home}/${slug}` });
    expect(other).not.toBe(home);
  });

  it("lists the choices when several of your orgs have it, and changes nothing", async () => {
    const user = await buildUser(world.platform);
    const [first, second] = [await buildOrg(world.platform, user), await buildOrg(world.platform, user)].sort();
    const slug = unique("www");
    await createApplication(world.platform, { actor: user, org: second!, hostname: `${unique("a")}.example.com`, name: slug });
    const partner = await buildUser(world.platform);
    await addMember(world.platform, first!, partner, "owner");
    await createApplication(world.platform, { actor: partner, org: first!, hostname: `${unique("b")}.example.com`, name: slug });
    const before = await snapshot(world.platform);
    const choices = `${slug} is in several of your orgs: write ${first}/${slug} or ${second}/${slug}`;
    for (const attempt of [
      () => showApplication(world.platform, { actor: user, app: slug }),
      () => listDomains(world.platform, { actor: user, app: slug }),
      () => addDomain(world.platform, { actor: user, app: slug, env: "production", hostname: `${unique("c")}.example.com` }),
      () => createEnvironment(world.platform, { actor: user, app: slug, env: "staging" }),
      () => showEnvironment(world.platform, { actor: user, app: slug, env: "production" }),
    ]) {
      const error = await failure(attempt());
      expect(error).toBeInstanceOf(Invalid);
      expect(error.message).toBe(choices);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    // Naming the org settles it.
    const id = await applicationId(world.platform, `${first}/${slug}`);
    expect((await showApplication(world.platform, { actor: user, app: `${first}/${slug}` })).ref).toBe(`${first}/${slug}`);
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
  });
});
