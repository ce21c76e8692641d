/**
 * Autolock's key-encryption key (KEK): the manager unlock key `SWMKEY-1-<base64 of 32 bytes>`, and
 * the node's TLS private key wrapped by it. The wrapped key is standard encrypted PKCS#8 PEM
 * (`ENCRYPTED PRIVATE KEY`, PBES2 with AES-256-CBC), so `openssl pkey` can read it given the key.
 */
import { createPrivateKey } from "node:crypto";
import { invalidArgument } from "../base/index.ts";

export const UNLOCK_KEY_PREFIX = "SWMKEY-1-";
const ENCRYPTED_LABEL = "-----BEGIN ENCRYPTED PRIVATE KEY-----";

/**
 * The raw KEK of a human-readable unlock key. Like SwarmKit, only the prefix and the base64 are
 * checked: a key of the wrong length is simply one that opens nothing.
 */
export function parseUnlockKey(text: string): Buffer {
  const body = text.startsWith(UNLOCK_KEY_PREFIX) ? text.slice(UNLOCK_KEY_PREFIX.length) : undefined;
  // Unpadded standard base64 only: Buffer.from would silently skip anything else.
  if (body === undefined || body === "" || !/^[A-Za-z0-9+/]+$/.test(body) || body.length % 4 === 1)
    throw invalidArgument("invalid key string");
  return Buffer.from(body, "base64");
}

export function formatUnlockKey(kek: Uint8Array): string {
  return `${UNLOCK_KEY_PREFIX}${Buffer.from(kek).toString("base64").replace(/=+$/, "")}`;
}

/** True when a private key PEM is wrapped (autolock was on when it was written). */
export function isWrappedPrivateKey(pem: string): boolean {
  return pem.trimStart().startsWith(ENCRYPTED_LABEL);
}

/** PKCS#8 PEM → encrypted PKCS#8 PEM under the KEK. */
export function wrapPrivateKey(keyPem: string, kek: Uint8Array): string {
  return createPrivateKey(keyPem)
    .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: Buffer.from(kek) })
    .toString();
}

/** The plain PKCS#8 PEM of a wrapped key, or undefined when this KEK does not open it. */
export function unwrapPrivateKey(wrappedPem: string, kek: Uint8Array): string | undefined {
  // A plain key would "open" with any passphrase: it is not wrapped by this KEK.
  if (!isWrappedPrivateKey(wrappedPem)) return undefined;
  try {
    const key = createPrivateKey({ key: wrappedPem, format: "pem", passphrase: Buffer.from(kek) });
    return key.export({ type: "pkcs8", format: "pem" }).toString();
  } catch {
    return undefined;
  }
}
