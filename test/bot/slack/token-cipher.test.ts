import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TokenCipher, TokenUnreadable, tokenKeyId } from "../../../src/bot/slack/token-cipher.ts";
import { sealLegacyToken } from "../../support/legacy-token.ts";

const token = "xoxb-1234-5678-abcdefghijklmnop";
const alpha = { team: "TALPHA" };
const beta = { team: "TBETA" };

describe("the bot token cipher", () => {
  it("gives back the token it encrypted, and never the same bytes twice", () => {
    const cipher = new TokenCipher(randomBytes(32));
    const [once, twice] = [cipher.encrypt(token, alpha), cipher.encrypt(token, alpha)];
    expect(cipher.decrypt(once, alpha)).toBe(token);
    expect(cipher.decrypt(twice, alpha)).toBe(token);
    // A fresh IV for each value: equal tokens do not look equal at rest.
    expect(once.equals(twice)).toBe(false);
    expect(once.toString("latin1")).not.toContain(token);
  });

  it("refuses a value altered at rest instead of returning a wrong token", () => {
    const cipher = new TokenCipher(randomBytes(32));
    const stored = cipher.encrypt(token, alpha);
    stored[stored.length - 1]! ^= 1;
    expect(() => cipher.decrypt(stored, alpha)).toThrow(TokenUnreadable);
  });

  it("does not open a workspace's token for another workspace, nor an enterprise's", () => {
    const cipher = new TokenCipher(randomBytes(32));
    const stored = cipher.encrypt(token, alpha);
    expect(() => cipher.decrypt(stored, beta)).toThrow(`the bot token of workspace TBETA does not open with key ${cipher.keyId}: it was altered, or moved from another workspace's row`);
    expect(() => cipher.decrypt(stored, { enterprise: "TALPHA" })).toThrow(TokenUnreadable);
    expect(cipher.decrypt(stored, alpha)).toBe(token);
  });

  it("records the sealing key's id, the first 8 hex characters of its SHA-256, and refuses a value relabelled with another", () => {
    const [newest, older] = [randomBytes(32), randomBytes(32)];
    const cipher = new TokenCipher([newest, older]);
    expect(cipher.keyId).toBe(createHash("sha256").update(newest).digest("hex").slice(0, 8));
    expect(cipher.keyIds).toEqual([tokenKeyId(newest), tokenKeyId(older)]);
    const stored = cipher.encrypt(token, alpha);
    expect(stored.subarray(4, 8).toString("hex")).toBe(cipher.keyId);

    Buffer.from(tokenKeyId(older), "hex").copy(stored, 4);
    expect(() => cipher.decrypt(stored, alpha)).toThrow(`does not open with key ${tokenKeyId(older)}`);
  });

  it("seals with the newest key and opens what any configured key sealed", () => {
    const [newest, older] = [randomBytes(32), randomBytes(32)];
    const underOlder = new TokenCipher(older).encrypt(token, alpha);
    const cipher = new TokenCipher([newest, older]);

    expect(cipher.open(underOlder, alpha)).toEqual({ token, keyId: tokenKeyId(older), legacy: false });
    expect(cipher.open(cipher.encrypt(token, alpha), alpha)).toEqual({ token, keyId: tokenKeyId(newest), legacy: false });
    expect(new TokenCipher(newest).decrypt(cipher.encrypt(token, alpha), alpha)).toBe(token);
  });

  it("names the key that sealed a value when that key is not configured", () => {
    const gone = randomBytes(32);
    const stored = new TokenCipher(gone).encrypt(token, alpha);
    const cipher = new TokenCipher([randomBytes(32), randomBytes(32)]);
    expect(() => cipher.decrypt(stored, alpha)).toThrow(
      `the bot token of workspace TALPHA was sealed with key ${tokenKeyId(gone)}, which is not among the configured keys (SLACK_TOKEN_KEYS: ${cipher.keyIds.join(", ")})`,
    );
  });

  it("opens a token stored before key ids with whichever configured key sealed it, for any owner", () => {
    const [newest, older] = [randomBytes(32), randomBytes(32)];
    const legacy = sealLegacyToken(older, token);
    const cipher = new TokenCipher([newest, older]);
    // Nothing bound it to its row then; re-sealing binds it.
    expect(cipher.open(legacy, beta)).toEqual({ token, keyId: tokenKeyId(older), legacy: true });
    expect(() => new TokenCipher(newest).decrypt(legacy, alpha)).toThrow(`the bot token of workspace TALPHA is in the format before key ids and none of the configured keys (SLACK_TOKEN_KEYS: ${tokenKeyId(newest)}) opens it`);
  });

  it("opens a legacy token whose random IV happens to start like the new header", () => {
    const key = randomBytes(32);
    const cipher = new TokenCipher(key);
    // The 1-in-2^32 case, made on purpose: an IV that begins with the magic and this key's id.
    const iv = Buffer.concat([Buffer.from([0x65, 0x62, 0x6b, 0x01]), Buffer.from(cipher.keyId, "hex"), randomBytes(4)]);
    const legacy = sealLegacyToken(key, token, iv);
    expect(cipher.open(legacy, alpha)).toEqual({ token, keyId: cipher.keyId, legacy: true });
  });

  it("takes only 32-byte keys, and at least one", () => {
    expect(() => new TokenCipher(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => new TokenCipher([randomBytes(32), randomBytes(31)])).toThrow(/32 bytes/);
    expect(() => new TokenCipher([])).toThrow(/at least one key/);
  });
});
