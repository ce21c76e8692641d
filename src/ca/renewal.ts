/**
 * When a node renews its certificate: at a random point between 50% and 80% of its validity
 * (SwarmKit's calculateRandomExpiry, in whole minutes), so that a cluster's nodes, all joined at
 * once, do not renew at once. The randomness is an input.
 */
import type { Ids } from "../base/index.ts";
import type { CertValidity } from "./identity.ts";

export const RENEW_LOWER_FRACTION = 0.5;
export const RENEW_UPPER_FRACTION = 0.8;
const MINUTE_MS = 60_000;

/** A uniform number in [0, 1) drawn from the injected randomness. */
export function randomFraction(ids: Ids): number {
  return ids.randomBytes(4).readUInt32BE(0) / 2 ** 32;
}

/**
 * Milliseconds from `now` until the node should renew (0 when that point has passed).
 * `fraction` in [0, 1) picks the point inside the window.
 */
export function renewalDelayMs(validity: CertValidity, now: number, fraction: number): number {
  const minutes = (validity.notAfter - validity.notBefore) / MINUTE_MS;
  const lower = Math.floor(minutes * RENEW_LOWER_FRACTION);
  const upper = Math.floor(minutes * RENEW_UPPER_FRACTION);
  const chosen = upper - lower < 1 ? lower : lower + Math.floor(fraction * (upper - lower));
  return Math.max(0, validity.notBefore + chosen * MINUTE_MS - now);
}
