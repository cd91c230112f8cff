import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recheckDelaySeconds } from "../../../src/core/golive.ts";
import { startDnsServer, type TestDnsServer } from "../../support/dns-server.ts";
import { useEdgebotDataDir } from "../../support/edgebot-process.ts";
import { RunningShell } from "../../support/running-shell.ts";

const suffix = "edge.test.net";
const hostname = "www.acme.example";

describe("the shell runs the job queue", () => {
  let server: TestDnsServer;
  // DNS_SERVERS is known only once the server listens: env() reads it then.
  const edgebotHome = useEdgebotDataDir("shell-rechecks");

  beforeAll(async () => {
    server = await startDnsServer({ records: [{ name: hostname, type: "CNAME", target: "old.other-cdn.example" }, { name: "old.other-cdn.example", type: "A", address: "203.0.113.5" }] });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("so a newcomer sees a background re-check take an environment live, announced above the prompt", { timeout: 240_000 }, async () => {
    const shell = new RunningShell({ ...edgebotHome.env(), DNS_SERVERS: server.address, EDGE_CNAME_SUFFIX: suffix });
    try {
      await shell.type("org create acme", /Created org acme/);
      await shell.type("org channel acme C0ACME", /\n\n/);
      await shell.type(`app create ${hostname} --org acme --name www`, /Created acme\/www/);
      // Waited for by its own words: a notification printed meanwhile (the app's creation, when a
      // job's end prints what is due) also ends with a blank line.
      const checked = await shell.type("golive acme/www production", /domains point at the edge/);
      expect(checked).toMatch(/0 of 1 domains point at the edge/);

      // The client fixes DNS; nobody types anything more.
      server.replaceRecords([{ name: hostname, type: "CNAME", target: `${hostname}.${suffix}` }]);
      const from = shell.printed.length;
      const announced = await shell.waitFor(/\[#C0ACME\][^\n]*acme\/www production is live/, from, (recheckDelaySeconds(1) + 60) * 1000);
      expect(announced).toContain(hostname);
      expect(announced).toMatch(/background DNS check/);

      const listed = await shell.type("env list acme/www", /\n\n/);
      expect(listed).toMatch(/production[^\n]*live/i);
    } finally {
      expect(await shell.end()).toBe(0);
    }
  });
});
