/**
 * Node roles as certificates carry them: the OU is `swarm-manager` or `swarm-worker`; every manager
 * certificate also names `swarm-ca` so joiners can verify the CA endpoints (SwarmKit's CARole).
 */
export type NodeRole = "manager" | "worker";

export const MANAGER_OU = "swarm-manager";
export const WORKER_OU = "swarm-worker";
export const CA_SERVER_NAME = "swarm-ca";

export const ouOfRole = (role: NodeRole): string => (role === "manager" ? MANAGER_OU : WORKER_OU);

export function roleOfOu(ou: string | undefined): NodeRole | undefined {
  if (ou === MANAGER_OU) return "manager";
  if (ou === WORKER_OU) return "worker";
  return undefined;
}

/** SwarmKit's certificate lifetimes (ca/certificates.go). */
export const DEFAULT_NODE_CERT_EXPIRY_MS = 2160 * 3600 * 1000;
export const MIN_NODE_CERT_EXPIRY_MS = 3600 * 1000;
