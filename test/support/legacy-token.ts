import { createCipheriv, randomBytes } from "node:crypto";

/**
 * A bot token sealed the way edgebot stored them before key ids: AES-256-GCM with a random
 * 12-byte IV, stored as IV, tag, then ciphertext, with no associated data.
 */
export function sealLegacyToken(key: Buffer, token: string, iv: Buffer = randomBytes(12)): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}
