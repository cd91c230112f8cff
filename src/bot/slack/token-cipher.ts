import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const ivBytes = 12;
const tagBytes = 16;
// "ebk" and the format's version, then the key id: a legacy value (a random IV first) starts
// like this once in 2^32, and then it is still read as legacy when the header does not open it.
const magic = Buffer.from([0x65, 0x62, 0x6b, 0x01]);
const keyIdBytes = 4;
const headerBytes = magic.length + keyIdBytes;

/** Whose bot token a value is: a workspace's, or an enterprise's for an org-wide install. */
export type TokenOwner = { team: string } | { enterprise: string };

/** A stored token that cannot be read: altered, moved from another owner's row, or sealed with a key that is not configured. */
export class TokenUnreadable extends Error {
  override name = "TokenUnreadable";
}

/** What opened a stored value: the token, the id of the key, and whether it was in the format before key ids. */
export interface OpenedToken {
  token: string;
  keyId: string;
  legacy: boolean;
}

interface TokenKey {
  id: string;
  key: Buffer;
}

/** A key's id: the first 8 hex characters of its SHA-256, so configuration names keys without ids of its own. */
export function tokenKeyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, keyIdBytes * 2);
}

/**
 * Encrypts bot tokens at rest with AES-256-GCM under the newest of `keys` (SLACK_TOKEN_KEYS,
 * newest first), and opens them under whichever key sealed them. A value is the header (format
 * and the sealing key's id), a random 12-byte IV, the authentication tag, then the ciphertext;
 * the header and the owner are the associated data, so a value altered in the database, moved
 * to another workspace's row, or relabelled with another key id fails to open instead of
 * yielding a wrong token. Values sealed before key ids (IV, tag, ciphertext, no associated
 * data) are still opened, with any configured key, until re-sealed.
 */
export class TokenCipher {
  private readonly keys: TokenKey[];

  /** `keys`: one key, or several newest first; each 32 bytes. */
  constructor(keys: Buffer | readonly Buffer[]) {
    const list = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (list.length === 0) throw new Error("the token cipher needs at least one key");
    if (list.some((key) => key.length !== 32)) throw new Error("each token key must be 32 bytes");
    this.keys = list.map((key) => ({ id: tokenKeyId(key), key }));
  }

  /** The id of the key new values are sealed with. */
  get keyId(): string {
    return this.keys[0]!.id;
  }

  /** The ids of every configured key, newest first. */
  get keyIds(): string[] {
    return this.keys.map((key) => key.id);
  }

  encrypt(token: string, owner: TokenOwner): Buffer {
    const { id, key } = this.keys[0]!;
    const header = Buffer.concat([magic, Buffer.from(id, "hex")]);
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(associatedData(header, owner));
    const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(stored: Uint8Array, owner: TokenOwner): string {
    return this.open(stored, owner).token;
  }

  /** Opens a stored value and says which key sealed it; throws TokenUnreadable when none of the configured keys opens it for `owner`. */
  open(stored: Uint8Array, owner: TokenOwner): OpenedToken {
    const value = Buffer.from(stored);
    if (value.length >= headerBytes + ivBytes + tagBytes && value.subarray(0, magic.length).equals(magic)) {
      const header = value.subarray(0, headerBytes);
      const keyId = header.subarray(magic.length).toString("hex");
      const candidates = this.keys.filter((key) => key.id === keyId);
      for (const { key } of candidates) {
        const token = gcmOpen(key, value.subarray(headerBytes), associatedData(header, owner));
        if (token !== undefined) return { token, keyId, legacy: false };
      }
      const legacy = this.openLegacy(value);
      if (legacy) return legacy;
      if (candidates.length === 0) throw new TokenUnreadable(`the bot token of ${describeOwner(owner)} was sealed with key ${keyId}, which is not among the configured keys (SLACK_TOKEN_KEYS: ${this.keyIds.join(", ")})`);
      throw new TokenUnreadable(`the bot token of ${describeOwner(owner)} does not open with key ${keyId}: it was altered, or moved from another workspace's row`);
    }
    const legacy = this.openLegacy(value);
    if (legacy) return legacy;
    throw new TokenUnreadable(`the bot token of ${describeOwner(owner)} is in the format before key ids and none of the configured keys (SLACK_TOKEN_KEYS: ${this.keyIds.join(", ")}) opens it`);
  }

  // The format before key ids: IV, tag, ciphertext, nothing associated; any configured key may have sealed it.
  private openLegacy(value: Buffer): OpenedToken | undefined {
    if (value.length < ivBytes + tagBytes) return undefined;
    for (const { id, key } of this.keys) {
      const token = gcmOpen(key, value, undefined);
      if (token !== undefined) return { token, keyId: id, legacy: true };
    }
    return undefined;
  }
}

/** "workspace T123" or "enterprise E123", as messages name an owner. */
export function describeOwner(owner: TokenOwner): string {
  return "team" in owner ? `workspace ${owner.team}` : `enterprise ${owner.enterprise}`;
}

function associatedData(header: Buffer, owner: TokenOwner): Buffer {
  const label = "team" in owner ? `team:${owner.team}` : `enterprise:${owner.enterprise}`;
  return Buffer.concat([header, Buffer.from(label, "utf8")]);
}

/** IV, tag and ciphertext opened under `key`; undefined when authentication fails. */
function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer | undefined): string | undefined {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, ivBytes));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([decipher.update(sealed.subarray(ivBytes + tagBytes)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
