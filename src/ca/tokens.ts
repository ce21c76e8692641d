import { timingSafeEqual } from "node:crypto";
import type { Ids } from "../base/index.ts";
import { invalidArgument } from "../base/index.ts";
import { rootDigest } from "./rootca.ts";

/**
 * Join tokens in Swarm's format: SWMTKN-1-<root digest>-<secret>. The digest is the SHA-256 of the
 * root CA PEM as a base-36 integer padded to 50 characters; the secret is 16 random bytes in base 36
 * padded to 25. Unlock keys: SWMKEY-1-<base64 of 32 random bytes, unpadded>.
 */
const TOKEN_PREFIX = "SWMTKN";
const TOKEN_VERSION = "1";
const DIGEST_LEN = 50;
const SECRET_LEN = 25;

function base36(bytes: Uint8Array, width: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(width, "0");
}

export function generateJoinToken(rootCertPem: string, ids: Ids): string {
  const digest = base36(rootDigest(rootCertPem), DIGEST_LEN);
  const secret = base36(ids.randomBytes(16), SECRET_LEN);
  return `${TOKEN_PREFIX}-${TOKEN_VERSION}-${digest}-${secret}`;
}

export interface ParsedJoinToken {
  /** The root CA digest, as written in the token (base 36). */
  digest: string;
  secret: string;
}

export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.split("-");
  if (
    parts.length !== 4 ||
    parts[0] !== TOKEN_PREFIX ||
    parts[1] !== TOKEN_VERSION ||
    parts[2]?.length !== DIGEST_LEN ||
    parts[3]?.length !== SECRET_LEN
  ) {
    throw invalidArgument("invalid join token");
  }
  return { digest: parts[2], secret: parts[3] };
}

/** True when the token pins this root CA. */
export function tokenMatchesRoot(token: ParsedJoinToken, rootCertPem: string): boolean {
  return token.digest === base36(rootDigest(rootCertPem), DIGEST_LEN);
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function generateUnlockKey(ids: Ids): string {
  return `SWMKEY-1-${ids.randomBytes(32).toString("base64").replace(/=+$/, "")}`;
}
