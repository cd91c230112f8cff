import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ivBytes = 12;
const tagBytes = 16;

/**
 * Encrypts bot tokens at rest with AES-256-GCM: each value gets its own random 12-byte IV and
 * is stored as IV, authentication tag, then ciphertext. A value altered in the database, or
 * read with another key, fails to decrypt instead of yielding a wrong token.
 */
export class TokenCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("the token key must be 32 bytes");
  }

  encrypt(token: string): Buffer {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(stored: Uint8Array): string {
    const value = Buffer.from(stored);
    if (value.length < ivBytes + tagBytes) throw new Error("the stored token is too short to be encrypted with this cipher");
    const decipher = createDecipheriv("aes-256-gcm", this.key, value.subarray(0, ivBytes));
    decipher.setAuthTag(value.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([decipher.update(value.subarray(ivBytes + tagBytes)), decipher.final()]).toString("utf8");
  }
}
