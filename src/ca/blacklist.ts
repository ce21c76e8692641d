/**
 * Removed nodes. `docker node rm` puts the node's ID (its certificate CN) on the cluster's
 * blacklist until its certificate would have expired; every authorization checks it. Entries are
 * dropped a week after that expiry (SwarmKit's expiredCertGrace), when the certificate is useless
 * anyway.
 */

/** Keyed by node ID; `Expiry` is the removed certificate's NotAfter (RFC 3339), if known. */
export type BlacklistedCertificates = Record<string, { Expiry?: string }>;

export const EXPIRED_CERT_GRACE_MS = 7 * 24 * 3600 * 1000;

/** SwarmKit checks presence only: a removed node stays removed until the entry is pruned. */
export function isBlacklisted(list: BlacklistedCertificates | undefined, nodeId: string): boolean {
  return list !== undefined && Object.hasOwn(list, nodeId);
}

/** The entry to add when a node is removed; `certNotAfter` in ms, undefined when unknown. */
export function blacklistEntry(certNotAfter: number | undefined): { Expiry?: string } {
  return certNotAfter === undefined ? {} : { Expiry: new Date(certNotAfter).toISOString() };
}

/** The list without entries whose certificate expired more than the grace period ago. */
export function pruneBlacklist(list: BlacklistedCertificates, now: number): BlacklistedCertificates {
  const kept: BlacklistedCertificates = {};
  for (const [nodeId, entry] of Object.entries(list)) {
    const expiry = entry.Expiry === undefined ? Number.NaN : Date.parse(entry.Expiry);
    if (Number.isNaN(expiry) || expiry + EXPIRED_CERT_GRACE_MS > now) kept[nodeId] = entry;
  }
  return kept;
}
