/**
 * Key material helpers: every key in a swarm is ECDSA P-256 (SwarmKit's default), kept as PKCS#8 PEM
 * on disk and in the store, imported into WebCrypto only to sign.
 */
import type { webcrypto as wc } from "node:crypto";
import { webcrypto } from "./x509.ts";

type CryptoKey = wc.CryptoKey;
type CryptoKeyPair = wc.CryptoKeyPair;

export const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** PEM text ending in exactly one newline, so blocks concatenate into a valid bundle. */
export const withNewline = (pem: string): string => `${pem.trimEnd()}\n`;

/** The DER bytes of the first PEM block with this label. */
export function fromPem(pem: string, label: string): Buffer {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const body = re.exec(pem)?.[1];
  if (body === undefined) throw new Error(`no ${label} PEM block`);
  return Buffer.from(body.replace(/\s+/g, ""), "base64");
}

/** Every CERTIFICATE block of a PEM bundle, in order, each normalised to end in one newline. */
export function splitPemCertificates(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => `${block}\n`,
  );
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Imports a PKCS#8 P-256 private key for signing. */
export async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = fromPem(keyPem, "PRIVATE KEY");
  return webcrypto.subtle.importKey("pkcs8", der, ECDSA_P256, false, ["sign"]) as Promise<CryptoKey>;
}
