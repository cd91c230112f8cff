import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../src/bot/shell.ts";
import type { OutboxWorker } from "../../src/bot/slack/outbox.ts";
import type { SlackApp } from "../../src/bot/slack/app.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { FakeSlack, type RecordedCall } from "../support/fake-slack.ts";
import { nsdMissing, startNsd, type NsdServer, type NsdZone } from "../support/nsd.ts";
import { manualOutbox, signedRequest, slashCommandBody, startSlackApp, testTeam } from "../support/slack-app.ts";
import { unique, useWorld } from "../support/world.ts";

if (nsdMissing !== undefined) console.warn(`golive-nsd.test.ts: ${nsdMissing}`);

const suffix = "edge.test.net";
const edgeAddresses = ["192.0.2.10", "192.0.2.11"];

describe.skipIf(nsdMissing !== undefined)("going live from Slack, with DNS served by nsd on loopback", () => {
  const world = useWorld();
  const fake = new FakeSlack();
  let nsd: NsdServer;
  let dns: DnsVerifier;
  let slack: SlackApp;
  let url: string;
  let outbox: OutboxWorker;

  // A client's zone, the CDN it leaves, and the edge's own zone, all served by the one nsd.
  const apex = `${unique("shop")}.example`;
  const www = `www.${apex}`;
  const channel = "C0SHOPLIVE";
  const zones = (wwwTarget: string): NsdZone[] => [
    {
      origin: apex,
      records: [
        `www CNAME ${wwwTarget}.`,
        ...edgeAddresses.map((address) => `@ A ${address}`),
        // For `dns check`: an edge address beside an IPv6 one, and a CNAME to a name the old CDN no longer has.
        `dual A ${edgeAddresses[0]}`,
        "dual AAAA 2001:db8::1",
        "lost CNAME gone.old-cdn.example.",
      ],
    },
    { origin: "old-cdn.example", records: ["shop A 203.0.113.5"] },
    // A client's bare domain on its old host's address for an hour, and its www on the old CDN.
    { origin: "shop-c.test", records: ["@ 3600 A 198.51.100.7", "@ 300 AAAA 2001:db8::1", "www 1800 CNAME shop.old-cdn.example."] },
    // Every name under the suffix resolves to the edge: the apex's A records are checked against these (no EDGE_IPV4).
    { origin: suffix, records: edgeAddresses.map((address) => `* A ${address}`) },
  ];

  beforeAll(async () => {
    await fake.start();
    nsd = await startNsd(zones("shop.old-cdn.example"));
    dns = createDnsVerifier({ dnsServers: [nsd.address], dnsTimeoutMs: 1000, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: [] });
    ({ slack, url } = await startSlackApp(world.platform, fake, { dns }));
    outbox = manualOutbox(world.platform.db, fake);
  });
  afterAll(async () => {
    await outbox?.stop();
    await slack?.stop();
    dns?.close();
    await nsd?.stop();
    await fake.stop();
  });

  /** Types `/edge <text>` as `userId`; resolves with the ephemeral answer as the person reads it. */
  async function type(userId: string, text: string): Promise<string> {
    const { body, responseId } = slashCommandBody(fake, { text, userId });
    expect((await signedRequest(url, body)).status).toBe(200);
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0], 10_000);
    return plainText({ text: String(answer.text), blocks: [] });
  }

  /** What the channel shows after the outbox delivered: each message's text as people read it. */
  async function channelShows(since: number): Promise<string[]> {
    await outbox.deliverDue();
    return fake.calls
      .slice(since)
      .filter((call: RecordedCall) => call.method === "chat.postMessage" && call.args.channel === channel)
      .map((call) => plainText({ text: String(call.args.text), blocks: [] }));
  }

  async function liveAt(ref: string): Promise<Date | null> {
    const [org, slug] = ref.split("/");
    const row = await world.platform.db
      .selectFrom("environments as e")
      .innerJoin("applications as a", "a.id", "e.application_id")
      .innerJoin("orgs as o", "o.id", "a.org_id")
      .select("e.live_at")
      .where("o.slug", "=", org!)
      .where("a.slug", "=", slug!)
      .where("e.name", "=", "production")
      .executeTakeFirstOrThrow();
    return row.live_at;
  }

  it("posts the results with the record to create, goes live once the zone is fixed, and announces it once", async () => {
    const person = unique("ana");
    const userId = `U${person.toUpperCase()}`;
    fake.addUser({ id: userId, teamId: testTeam, email: `${person}@example.com`, name: person });
    const org = unique("shop");
    const ref = `${org}/shop`;

    // Slack escapes what looks like a domain as a link; the commands take it as typed.
    expect(await type(userId, `app create <http://${www}|${www}> --new-org ${org} --name shop`)).toContain(ref);
    expect(await type(userId, `app channel ${ref} <#${channel}|shop-live>`)).toContain(`Notifications for ${ref} go to #${channel}`);
    let since = fake.calls.length;
    expect(await type(userId, `domain add ${ref} production ${apex}`)).toContain(apex);
    expect(await channelShows(since)).toEqual([expect.stringContaining(`${apex} was added to ${ref} production`)]);

    // The www record still points at the CDN the client is leaving.
    since = fake.calls.length;
    const first = await type(userId, `golive ${ref} production`);
    expect(first).toContain("1 of 2 domains point at the edge");
    expect(first).toContain(`Results posted in #${channel}.`);
    const failing = await channelShows(since);
    expect(failing).toHaveLength(1);
    expect(failing[0]).toContain(`Go-live check of ${ref} production: 1 of 2 domains point at the edge`);
    expect(failing[0]).toContain(`${www} fails: found wrong CNAME target: ${www} → shop.old-cdn.example (which has A 203.0.113.5)`);
    expect(failing[0]).toContain(
      [
        "Create this record:",
        `    Type   Name${" ".repeat(www.length - 4)}  Value`,
        `    CNAME  ${www}  ${www}.${suffix}`,
        "Remove what stands in the way:",
        "• remove `CNAME shop.old-cdn.example`",
        "The old record's TTL is 1 minute: resolvers may keep the old answer that long after the change.",
      ].join("\n"),
    );
    expect(failing[0]).toContain(`${apex} passes: A ${edgeAddresses.join(", ")}: edge addresses`);
    expect(failing[0]).toContain(`${ref} production is not live yet.`);
    expect(await liveAt(ref)).toBeNull();

    // The client creates the record edgebot asked for.
    await nsd.serve(zones(`${www}.${suffix}`));
    since = fake.calls.length;
    const second = await type(userId, `golive ${ref} production`);
    expect(second).toContain("2 of 2 domains point at the edge");
    expect(second).toContain(`${ref} production is live.`);
    const wentLive = await channelShows(since);
    expect(wentLive).toHaveLength(2);
    expect(wentLive[0]).toContain(`Go-live check of ${ref} production: 2 of 2 domains point at the edge`);
    expect(wentLive[0]).toContain(`${www} passes: CNAME ${www} → ${www}.${suffix}`);
    // The check that took it live says so in the channel too.
    expect(wentLive[0]).toContain(`${ref} production is live.`);
    expect(wentLive[0]).not.toContain("already live");
    expect(wentLive[1]).toContain(`${ref} production is live: ${apex}, ${www} now point at the edge`);
    expect(await liveAt(ref)).toBeInstanceOf(Date);
    const liveSince = await liveAt(ref);

    // Checking again reports, and does not announce a second time.
    since = fake.calls.length;
    const third = await type(userId, `golive ${ref} production`);
    expect(third).toContain("2 of 2 domains point at the edge");
    const again = await channelShows(since);
    expect(again).toHaveLength(1);
    expect(again[0]).toContain(`Every domain passes: ${ref} production was already live.`);
    expect(await liveAt(ref)).toEqual(liveSince);
    const announcements = (await channelShows(0)).filter((text) => text.includes(`${ref} production is live:`));
    expect(announcements).toHaveLength(1);
  });

  it("reads the authoritative server's NXDOMAIN and no-data answers as the record to create", async () => {
    const person = unique("ben");
    const userId = `U${person.toUpperCase()}`;
    fake.addUser({ id: userId, teamId: testTeam, email: `${person}@example.com`, name: person });

    const missing = await type(userId, `dns check nothing.${apex}`);
    expect(missing).toContain(`Create this record:\n    Type   Name${" ".repeat(`nothing.${apex}`.length - 4)}  Value\n    CNAME  nothing.${apex}  nothing.${apex}.${suffix}`);
    expect(missing).not.toContain("Remove");
    expect(missing).toContain(`NXDOMAIN: nothing.${apex} does not exist`);

    const dual = await type(userId, `dns check dual.${apex}`);
    expect(dual).toContain(`dual.${apex} does not point at the edge yet`);
    expect(dual).toContain("AAAA 2001:db8::1: not the edge (it is IPv4): remove the AAAA record");

    const lost = await type(userId, `dns check lost.${apex}`);
    expect(lost).toContain(`wrong CNAME target: lost.${apex} → gone.old-cdn.example (which does not exist: NXDOMAIN)`);
  });

  it("finds a zone apex by its SOA at nsd, and gives it A records or an ALIAS, never a CNAME", async () => {
    const person = unique("cleo");
    const userId = `U${person.toUpperCase()}`;
    fake.addUser({ id: userId, teamId: testTeam, email: `${person}@example.com`, name: person });

    // EDGE_IPV4 is empty here: the ALIAS is the only advice for the apex.
    const bare = await type(userId, "dns check shop-c.test");
    expect(bare).toContain(
      [
        "shop-c.test is a zone apex, which cannot hold a CNAME. Create this record:",
        "    Type         Name         Value",
        `    ALIAS/ANAME  shop-c.test  shop-c.test.${suffix}`,
        "Remove what stands in the way:",
        "• remove `A 198.51.100.7`",
        "• remove `AAAA 2001:db8::1`",
        "The old records' TTL is up to 60 minutes: resolvers may keep the old answer that long after the change.",
      ].join("\n"),
    );
    // nsd answers a subdomain's SOA question with no answer (its zone's SOA in the authority section): not an apex.
    const www = await type(userId, "dns check www.shop-c.test");
    expect(www).toContain(`    CNAME  www.shop-c.test  www.shop-c.test.${suffix}\nRemove what stands in the way:\n• remove \`CNAME shop.old-cdn.example\`\nThe old record's TTL is 30 minutes`);
    expect(www).not.toContain("ALIAS");

    // With EDGE_IPV4 set: an A record per edge address, the ALIAS as the alternative.
    const withEdge = createDnsVerifier({ dnsServers: [nsd.address], dnsTimeoutMs: 1000, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: edgeAddresses });
    try {
      expect(await withEdge.verify("shop-c.test")).toMatchObject({
        status: "fails",
        recordToCreate: `A shop-c.test ${edgeAddresses[0]}`,
        advice: {
          apex: true,
          create: edgeAddresses.map((address) => ({ type: "A", name: "shop-c.test", value: address })),
          alternative: { type: "ALIAS", name: "shop-c.test", value: `shop-c.test.${suffix}` },
          remove: [
            { type: "A", name: "shop-c.test", value: "198.51.100.7" },
            { type: "AAAA", name: "shop-c.test", value: "2001:db8::1" },
          ],
          ttlSeconds: 3600,
        },
      });
    } finally {
      withEdge.close();
    }
  });
});
