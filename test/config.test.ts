import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("configuration", () => {
  it("runs with the defaults of SPEC §6 when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toEqual({
      databaseUrl: undefined,
      databaseConnectTimeoutSeconds: 60,
      dataDir: path.resolve(".edgebot"),
      gitRoot: path.resolve(".edgebot", "repos"),
      edgeCnameSuffix: "edge.example.net",
      edgeIpv4: [],
      dnsServers: [],
      dnsTimeoutMs: 2000,
      dnsConcurrency: 200,
      port: 3000,
      gitHttpPort: 3000,
      slashCommand: "/edge",
      gitMaxPushBytes: 10 * 1024 * 1024,
      shutdownTimeoutS: 10,
      // Unset: the shell and the Slack app each choose their own default level.
      logLevel: undefined,
      localUser: "local",
      slack: {
        signingSecret: undefined,
        botToken: undefined,
        appToken: undefined,
        clientId: undefined,
        clientSecret: undefined,
        stateSecret: undefined,
        tokenKeys: undefined,
        apiUrl: undefined,
      },
    });
  });

  it("treats a variable set to blanks as unset", () => {
    expect(loadConfig({ DATABASE_URL: "  ", PORT: "" })).toMatchObject({ databaseUrl: undefined, port: 3000 });
  });

  it("puts the repositories under DATA_DIR unless GIT_ROOT says otherwise", () => {
    expect(loadConfig({ DATA_DIR: "/srv/edgebot" }).gitRoot).toBe("/srv/edgebot/repos");
    expect(loadConfig({ DATA_DIR: "/srv/edgebot", GIT_ROOT: "/var/git" }).gitRoot).toBe("/var/git");
  });

  it("reads good values and lists", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://edgebot@db:5432/edgebot",
      EDGE_CNAME_SUFFIX: "c.section.io",
      EDGE_IPV4: "192.0.2.1, 192.0.2.2",
      DNS_SERVERS: "1.1.1.1,9.9.9.9:5353,[2001:db8::1]:53",
      DNS_TIMEOUT_MS: "500",
      DNS_CONCURRENCY: "10",
      DATABASE_CONNECT_TIMEOUT_S: "5",
      PORT: "8080",
      GIT_MAX_PUSH_BYTES: "1048576",
      SLASH_COMMAND: "/cdn",
      LOG_LEVEL: "debug",
      EDGEBOT_USER: "ana",
      SLACK_API_URL: "http://127.0.0.1:9999/api/",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://edgebot@db:5432/edgebot",
      edgeCnameSuffix: "c.section.io",
      edgeIpv4: ["192.0.2.1", "192.0.2.2"],
      dnsServers: ["1.1.1.1", "9.9.9.9:5353", "[2001:db8::1]:53"],
      dnsTimeoutMs: 500,
      dnsConcurrency: 10,
      databaseConnectTimeoutSeconds: 5,
      port: 8080,
      gitHttpPort: 8080,
      gitMaxPushBytes: 1048576,
      slashCommand: "/cdn",
      logLevel: "debug",
      localUser: "ana",
      slack: { apiUrl: "http://127.0.0.1:9999/api/" },
    });
  });

  it.each([
    ["DATABASE_URL", "mysql://x"],
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["GIT_HTTP_PORT", "http"],
    ["GIT_MAX_PUSH_BYTES", "10MiB"],
    ["GIT_MAX_PUSH_BYTES", "100"],
    ["DNS_TIMEOUT_MS", "-1"],
    ["DNS_CONCURRENCY", "0"],
    ["DATABASE_CONNECT_TIMEOUT_S", "soon"],
    ["DATABASE_CONNECT_TIMEOUT_S", "-5"],
    ["DATABASE_CONNECT_TIMEOUT_S", "1.5"],
    ["DATABASE_CONNECT_TIMEOUT_S", "100000"],
    ["DNS_SERVERS", "nope"],
    ["DNS_SERVERS", "1.1.1.1:99999"],
    ["EDGE_IPV4", "1.2.3"],
    ["EDGE_CNAME_SUFFIX", "Edge Example"],
    ["SLASH_COMMAND", "edge"],
    ["LOG_LEVEL", "loud"],
    ["SLACK_API_URL", "ftp://x"],
    ["EDGEBOT_USER", "a b"],
  ])("refuses %s=%s with one line naming the variable", (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith(`${variable}: `)).toBe(true);
    expect(message).not.toContain("\n");
    expect(message).toContain(JSON.stringify(value));
  });

  it("keeps a value with a newline on one line", () => {
    expect(() => loadConfig({ PORT: "80\n81" })).toThrow(/^PORT: [^\n]*$/);
  });

  it("never repeats a password from a refused connection string", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://root:hunter2@db/app" })).toThrow(ConfigError);
    try {
      loadConfig({ DATABASE_URL: "mysql://root:hunter2@db/app" });
    } catch (error) {
      expect((error as Error).message).toMatch(/^DATABASE_URL: /);
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
  it("reads SHUTDOWN_TIMEOUT_S as whole seconds", () => {
    expect(loadConfig({ SHUTDOWN_TIMEOUT_S: "0" }).shutdownTimeoutS).toBe(0);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_S: "30" }).shutdownTimeoutS).toBe(30);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_S: "1.5" })).toThrow(/^SHUTDOWN_TIMEOUT_S: must be a whole number \(got "1.5"\)$/);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_S: "-1" })).toThrow(/^SHUTDOWN_TIMEOUT_S: must be a whole number/);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_S: "3601" })).toThrow(/^SHUTDOWN_TIMEOUT_S: must be at most 3600/);
  });

  it("knows a bot token and an app token by their shape, and never repeats a token it refuses", () => {
    const pair = { SLACK_SIGNING_SECRET: "s3cret-signing" };
    expect(() => loadConfig({ ...pair, SLACK_BOT_TOKEN: "xapp-1-A1-secret-app-token" })).toThrow(/^SLACK_BOT_TOKEN: must be a bot token, starting with xoxb- \([^)]*\)$/);
    expect(() => loadConfig({ ...pair, SLACK_BOT_TOKEN: "xoxp-user-token-secret" })).toThrow(/^SLACK_BOT_TOKEN: must be a bot token/);
    expect(() => loadConfig({ ...pair, SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xoxb-bot-token-secret" })).toThrow(/^SLACK_APP_TOKEN: must be an app-level token, starting with xapp- \([^)]*\)$/);
    for (const secret of ["xapp-1-A1-secret-app-token", "xoxp-user-token-secret"]) {
      expect(() => loadConfig({ ...pair, SLACK_BOT_TOKEN: secret })).not.toThrow(new RegExp(secret));
    }
  });

  it("takes the Slack HTTP pair together, and names the half that is missing without repeating the other", () => {
    expect(loadConfig({ SLACK_SIGNING_SECRET: "s3cret-signing", SLACK_BOT_TOKEN: "xoxb-1" }).slack).toMatchObject({ signingSecret: "s3cret-signing", botToken: "xoxb-1" });
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: "s3cret-signing" })).toThrow(/^SLACK_BOT_TOKEN: is not set \(Slack HTTP mode needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN together\)$/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "xoxb-1" })).toThrow(/^SLACK_SIGNING_SECRET: is not set/);
    expect(() => loadConfig({ SLACK_APP_TOKEN: "xapp-1" })).toThrow(/^SLACK_SIGNING_SECRET: is not set \(Socket Mode needs/);
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: "s3cret-signing" })).not.toThrow(/s3cret/);
  });

  describe("multi-workspace Slack", () => {
    const hexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const olderKey = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    const multiWorkspace = {
      SLACK_CLIENT_ID: "1111.2222",
      SLACK_CLIENT_SECRET: "client-s3cret-value",
      SLACK_STATE_SECRET: "state-s3cret-value",
      SLACK_SIGNING_SECRET: "s3cret-signing",
      SLACK_TOKEN_KEYS: hexKey,
    };

    /** The one line loadConfig refuses `env` with. */
    function refusal(env: Record<string, string>): string {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error("loadConfig accepted it");
    }

    it("reads the client id, secrets and the token keys, newest first, each as hex or base64", () => {
      const { slack } = loadConfig(multiWorkspace);
      expect(slack).toMatchObject({ clientId: "1111.2222", clientSecret: "client-s3cret-value", stateSecret: "state-s3cret-value", signingSecret: "s3cret-signing", botToken: undefined });
      expect(slack.tokenKeys).toEqual([Buffer.from(hexKey, "hex")]);
      const base64Older = Buffer.from(olderKey, "hex").toString("base64");
      expect(loadConfig({ ...multiWorkspace, SLACK_TOKEN_KEYS: `${hexKey}, ${base64Older}` }).slack.tokenKeys).toEqual([Buffer.from(hexKey, "hex"), Buffer.from(olderKey, "hex")]);
    });

    it("still reads SLACK_TOKEN_KEY, as a list of one key, and refuses it beside SLACK_TOKEN_KEYS", () => {
      const { SLACK_TOKEN_KEYS: _keys, ...withoutKeys } = multiWorkspace;
      expect(loadConfig({ ...withoutKeys, SLACK_TOKEN_KEY: hexKey }).slack.tokenKeys).toEqual([Buffer.from(hexKey, "hex")]);
      const both = refusal({ ...multiWorkspace, SLACK_TOKEN_KEY: olderKey });
      expect(both).toBe("SLACK_TOKEN_KEY: must not be set with SLACK_TOKEN_KEYS (list every key in SLACK_TOKEN_KEYS, newest first)");
      expect(refusal({ ...withoutKeys, SLACK_TOKEN_KEY: "ab".repeat(33) })).toBe("SLACK_TOKEN_KEY: must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -hex 32)");
    });

    it.each(["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "SLACK_SIGNING_SECRET", "SLACK_TOKEN_KEYS"])("names %s when it is the one missing", (variable) => {
      const partial: Record<string, string> = { ...multiWorkspace };
      delete partial[variable];
      expect(() => loadConfig(partial)).toThrow(new RegExp(`^${variable}: is not set \\(multi-workspace Slack needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_SIGNING_SECRET and SLACK_TOKEN_KEYS together\\)$`));
    });

    it.each([
      ["too short", "00112233"],
      ["not hex nor base64", "zz".repeat(32)],
      ["base64 of 31 bytes", Buffer.alloc(31, 1).toString("base64")],
      ["hex of 33 bytes", "ab".repeat(33)],
      ["empty", ""],
    ])("refuses a token key that is %s, naming its place in the list and repeating no key", (_why, key) => {
      expect(refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: key || "," })).toBe("SLACK_TOKEN_KEYS: the 1st entry must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -hex 32)");
      const message = refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: `${hexKey},${key}` });
      expect(message).toBe("SLACK_TOKEN_KEYS: the 2nd entry must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -hex 32)");
      if (key) expect(message).not.toContain(key);
      expect(message).not.toContain(hexKey);
    });

    it("names the entry by its place however long the list", () => {
      const keys = (bad: number) => Array.from({ length: 23 }, (_, index) => (index === bad - 1 ? "nope" : index.toString(16).padStart(64, "0"))).join(",");
      expect(refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: keys(3) })).toMatch(/^SLACK_TOKEN_KEYS: the 3rd entry must be/);
      expect(refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: keys(12) })).toMatch(/^SLACK_TOKEN_KEYS: the 12th entry must be/);
      expect(refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: keys(21) })).toMatch(/^SLACK_TOKEN_KEYS: the 21st entry must be/);
      expect(refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: keys(22) })).toMatch(/^SLACK_TOKEN_KEYS: the 22nd entry must be/);
    });

    it("refuses the same key twice in the list, without repeating it", () => {
      const base64Same = Buffer.from(hexKey, "hex").toString("base64");
      const message = refusal({ ...multiWorkspace, SLACK_TOKEN_KEYS: `${hexKey},${olderKey},${base64Same}` });
      expect(message).toBe("SLACK_TOKEN_KEYS: the 3rd entry is the same key as the 1st");
    });

    it("refuses a single bot token or app token alongside it", () => {
      expect(() => loadConfig({ ...multiWorkspace, SLACK_BOT_TOKEN: "xoxb-1" })).toThrow(/^SLACK_BOT_TOKEN: must not be set with SLACK_CLIENT_ID /);
      expect(() => loadConfig({ ...multiWorkspace, SLACK_APP_TOKEN: "xapp-1" })).toThrow(/^SLACK_APP_TOKEN: must not be set with SLACK_CLIENT_ID /);
    });
  });
});
