/**
 * A manager whose node was demoted in the store (`docker node demote`, checked for quorum by the
 * control API) gives up its manager side, in SwarmKit's order: stop leading and serving (the
 * election hands over at once), clear its ManagerStatus, remove its etcd member (quorum checked
 * again), renew its certificate through another manager (the CA takes the role from the store:
 * worker), then the node restarts as a worker.
 */
import type { Clock, Logger } from "../base/index.ts";
import { failedPrecondition, timestamp, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { canRemoveMember, type EtcdMemberState, type EtcdMembership } from "../etcd/index.ts";
import type { Store } from "../store/types.ts";
import { managerAddrs } from "./manager-membership.ts";

export interface DemotionDeps {
  nodeId: string;
  store: Store;
  membership: Pick<EtcdMembership, "removeLocal">;
  /** The local etcd member (its state says whether it has been removed). */
  member: { readonly status: { state: EtcdMemberState } };
  clock: Clock;
  logger: Logger;
  /** Renews this node's certificate through the manager at `addr` (its cluster API). */
  renew(addr: string): Promise<NodeCredentials>;
  /** Saves the renewed (worker) credentials, through the node's keys. */
  save(credentials: NodeCredentials): Promise<void>;
  stopManager(): Promise<void>;
  /** Called once, with the other managers' addresses, when the node must restart as a worker. */
  demoted(managers: string[]): void;
}

/**
 * Watches this node's role in the store; runs until `signal` aborts or the node is demoted. Each
 * step is done once and remembered: once the etcd member is removed the local store is gone, so a
 * retry can neither read nor write it and must go on from where the last attempt stopped.
 */
export async function watchDemotion(deps: DemotionDeps, signal: AbortSignal): Promise<void> {
  let others: string[] | undefined;
  let memberRemoved = false;
  while (!signal.aborted) {
    await deps.clock.sleep(1000, signal).catch(() => undefined);
    if (signal.aborted) return;
    if (!others) {
      const node = deps.store.view((tx) => tx.get("nodes", deps.nodeId));
      if (node?.Spec?.Role !== "worker") continue;
    }
    try {
      others ??= await stepDown(deps);
      if (!memberRemoved) await deps.membership.removeLocal(deps.nodeId, deps.member);
      memberRemoved = true;
      await renewAsWorker(deps, others);
      deps.demoted(others);
      return;
    } catch (err) {
      deps.logger.warn({ err }, "demotion could not complete yet; retrying");
    }
  }
}

/**
 * Stops leading and serving and clears this node's ManagerStatus (while its store still works);
 * returns the other managers' addresses.
 */
async function stepDown(deps: DemotionDeps): Promise<string[]> {
  const { store, nodeId, logger } = deps;
  const nodes = store.view((tx) => tx.list("nodes"));
  const self = nodes.find((n) => n.ID === nodeId);
  const others = managerAddrs(nodes.filter((n) => n.ID !== nodeId));
  const members = nodes
    .filter((n) => n.Spec?.Role === "manager" || n.ID === nodeId)
    .map((n) => ({ id: n.ID, reachable: n.ManagerStatus?.Reachability !== "unreachable" }));
  if (!canRemoveMember(members, nodeId) || others.length === 0)
    throw failedPrecondition("can't remove member from the raft: this would result in a loss of quorum");
  logger.info({}, "demoted: leaving the managers");
  await deps.stopManager();
  if (self?.ManagerStatus) {
    await store.update((tx) => {
      const cur = tx.get("nodes", nodeId);
      if (cur) tx.update("nodes", { ...cur, ManagerStatus: null, UpdatedAt: timestamp(deps.clock) });
    });
  }
  return others;
}

/** A new certificate with the worker role, from any of the other managers. */
async function renewAsWorker(deps: DemotionDeps, others: readonly string[]): Promise<void> {
  for (const addr of others) {
    try {
      await deps.save(await deps.renew(addr));
      return;
    } catch (err) {
      deps.logger.warn({ err, addr }, "renewal after demotion failed; trying another manager");
    }
  }
  throw unavailable("no manager could renew this node's certificate after its demotion");
}
