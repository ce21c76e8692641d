/**
 * A node's side of a root rotation. Every few seconds each node asks a manager for the cluster's
 * manager list (workers) and its CA status, reporting its own TLSInfo (trust root and certificate
 * issuer; the rotation and `docker swarm ca` read it from its Node). The answer tells it to trust
 * the new root as well while a rotation runs, to renew when the rotation asks, and to adopt the
 * new root once the rotation finished (SwarmKit sends the same through the session).
 */
import type { Clock, Logger } from "../base/index.ts";
import type { NodeCredentials, TlsInfo } from "../ca/index.ts";
import { nodeTlsInfo } from "../ca/index.ts";
import { fetchManagers, type ManagersReply } from "../clusterapi/index.ts";

export type TrustRoots = Pick<NodeCredentials, "rootCAPem" | "nextRootCAPem">;

export interface CaSyncDecision {
  /** The roots to trust from now on, when they changed. */
  trust?: TrustRoots;
  /** The trust root itself changed (the rotation finished): save it. */
  rootChanged: boolean;
  renew: boolean;
}

/** Pure: what a manager's answer changes for a node holding `creds`. */
export function caSyncDecision(
  creds: NodeCredentials,
  reply: Pick<ManagersReply, "rootCA" | "nextRootCA" | "rotate">,
): CaSyncDecision {
  const rootCAPem = reply.rootCA ?? creds.rootCAPem;
  const next = reply.nextRootCA === rootCAPem ? undefined : reply.nextRootCA;
  const rootChanged = rootCAPem !== creds.rootCAPem;
  const changed = rootChanged || next !== creds.nextRootCAPem;
  const trust: TrustRoots = { rootCAPem, ...(next ? { nextRootCAPem: next } : {}) };
  return { ...(changed ? { trust } : {}), rootChanged, renew: reply.rotate };
}

/** The node's TLSInfo as it reports it. */
export const reportedTlsInfo = (creds: NodeCredentials): TlsInfo =>
  nodeTlsInfo(creds.certPem, creds.rootCAPem);

/** The credentials trusting exactly these roots. */
export function withTrust(creds: NodeCredentials, roots: TrustRoots): NodeCredentials {
  const { nextRootCAPem: _old, ...rest } = creds;
  return { ...rest, ...roots };
}

/**
 * Renewed credentials keep the roots this node trusts: only the CA status (a few seconds apart)
 * changes them. A renewal answered just before a rotation finished names the old root, and must
 * not undo the new one the node adopted meanwhile.
 */
export function keepTrust(current: NodeCredentials, renewed: NodeCredentials): NodeCredentials {
  const { rootCAPem, nextRootCAPem } = current;
  return withTrust(renewed, { rootCAPem, ...(nextRootCAPem ? { nextRootCAPem } : {}) });
}

export interface CaSyncDeps {
  logger: Logger;
  credentials(): NodeCredentials;
  /** Saves credentials whose trust root changed (the key may be wrapped: autolock). */
  save(credentials: NodeCredentials): Promise<void>;
  /** The node uses these roots from now on (TLS contexts); the new root is saved right after. */
  trust(roots: TrustRoots, rootChanged: boolean): void;
  renewNow(): void;
}

/** Applies one answer; failures are the caller's (it asks again in a few seconds). */
export async function applyCaSync(deps: CaSyncDeps, reply: ManagersReply): Promise<void> {
  const decision = caSyncDecision(deps.credentials(), reply);
  if (decision.trust) {
    // In memory first: a renewal saving meanwhile then writes the new root too (keepTrust).
    deps.trust(decision.trust, decision.rootChanged);
    if (decision.rootChanged) {
      await deps.save(deps.credentials());
      deps.logger.info({}, "root CA rotation finished: trusting the new root");
    } else if (decision.trust.nextRootCAPem) {
      deps.logger.info({}, "root CA rotation under way: trusting the new root as well");
    }
  }
  if (decision.renew) {
    deps.logger.info({}, "root CA rotation: renewing this node's certificate");
    deps.renewNow();
  }
}

/** How often a node asks (the worker's manager-list poll runs at the same pace). */
export const CA_SYNC_PERIOD_MS = 3000;

/** A manager's loop: asks its own cluster API (it reads the store) until `signal` aborts. */
export async function runCaSync(
  deps: CaSyncDeps & { clock: Clock; addr: string },
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    await deps.clock.sleep(CA_SYNC_PERIOD_MS, signal).catch(() => undefined);
    if (signal.aborted) return;
    try {
      const creds = deps.credentials();
      await applyCaSync(deps, await fetchManagers(deps.addr, creds, reportedTlsInfo(creds)));
    } catch (err) {
      deps.logger.debug({ err }, "CA status not available; asking again");
    }
  }
}
