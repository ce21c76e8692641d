/**
 * After a root rotation finished, each manager restarts its etcd member so that etcd trusts the
 * new root: etcd reads its CA file only at start, and would otherwise keep accepting the old
 * root's certificates (a compromised old key stays dangerous) and, at the next rotation, refuse
 * its peers. Until the restart, the cross-signed certificate every node certificate carries keeps
 * peers verifiable under the old root. Managers take turns in node ID order, a stagger apart, so
 * the etcd quorum never misses two members at once.
 */
import type { Clock, Logger } from "../base/index.ts";

export const ETCD_RELOAD_STAGGER_MS = 10_000;
/** Lets the other managers learn the new root first (they ask every few seconds). */
export const ETCD_RELOAD_SETTLE_MS = 5_000;

/** This manager's wait before its turn: its rank among the managers' node IDs. */
export function etcdReloadDelayMs(selfId: string, managerIds: readonly string[]): number {
  const rank = Math.max(0, [...managerIds].sort().indexOf(selfId));
  return ETCD_RELOAD_SETTLE_MS + rank * ETCD_RELOAD_STAGGER_MS;
}

export interface EtcdReloaderDeps {
  nodeId: string;
  clock: Clock;
  logger: Logger;
  member: { reload(): Promise<void> };
  /** Node IDs of the cluster's managers now. */
  managerIds(): string[];
}

export class EtcdReloader {
  private pending: Promise<void> | undefined;

  constructor(private readonly deps: EtcdReloaderDeps) {}

  /** Reloads the member at this manager's turn; a request while one waits joins it. */
  request(signal: AbortSignal): void {
    // reload() reports its own failures; done() awaits it on stop.
    this.pending ??= this.reload(signal).finally(() => {
      this.pending = undefined;
    });
  }

  done(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }

  private async reload(signal: AbortSignal): Promise<void> {
    const { clock, logger } = this.deps;
    const delay = etcdReloadDelayMs(this.deps.nodeId, this.deps.managerIds());
    await clock.sleep(delay, signal).catch(() => undefined);
    if (signal.aborted) return;
    try {
      await this.deps.member.reload();
      logger.info({}, "etcd member restarted to trust the new root CA");
    } catch (err) {
      logger.warn({ err }, "could not restart the etcd member for the new root CA");
    }
  }
}
