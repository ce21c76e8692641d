/**
 * Managers are etcd members. This file holds the daemon's side of that: the cluster API's
 * `ManagerMembership` over the store and the local member's etcd client (an existing manager adds a
 * joiner's member), the joiner's preparation (ports, asking a manager, the initial cluster), and
 * removing this manager's own member when it leaves.
 */
import type { Node } from "../api/index.ts";
import type { Clock } from "../base/index.ts";
import { failedPrecondition, notFound, timestamp } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { parseUnlockKey } from "../ca/index.ts";
import type { ManagerMembership } from "../clusterapi/index.ts";
import { joinEtcdCluster } from "../clusterapi/index.ts";
import { type EtcdMembership, freePort, initialClusterOf, peerUrl } from "../etcd/index.ts";
import type { Store } from "../store/types.ts";
import type { NodeKeys } from "./node-keys.ts";
import type { NodeState } from "./node-state.ts";

const isManager = (n: Node): boolean => n.Spec?.Role === "manager";

/** Reachable managers first; those without a recorded address are left out. */
export function managerAddrs(nodes: readonly Node[]): string[] {
  const managers = nodes.filter(isManager);
  const rank = (n: Node) => (n.ManagerStatus?.Reachability === "unreachable" ? 1 : 0);
  return managers
    .sort((a, b) => rank(a) - rank(b))
    .map((n) => n.ManagerStatus?.Addr ?? "")
    .filter((a) => a !== "");
}

export function storeMembership(
  store: Store,
  etcd: EtcdMembership,
  dataKey: Uint8Array,
  clock: Clock,
): ManagerMembership {
  return {
    managerAddrs: () => managerAddrs(store.view((tx) => tx.list("nodes"))),
    addManager: async (nodeId, peerUrl, addr) => {
      // Written before the member is added: until the new member starts, a two-member etcd has
      // no quorum and could not take this write.
      await store.update((tx) => {
        const node = tx.get("nodes", nodeId);
        if (!node) throw notFound(`node ${nodeId} not found`);
        if (!isManager(node)) throw failedPrecondition(`node ${nodeId} is not a manager`);
        tx.update("nodes", {
          ...node,
          ManagerStatus: { Leader: false, Reachability: "reachable", Addr: addr },
          UpdatedAt: timestamp(clock),
        });
      });
      const members = await etcd.add(peerUrl);
      const unlockKey = store.view((tx) => tx.list("clusters")[0])?.Shoal?.UnlockKey;
      return {
        initialCluster: initialClusterOf(members, nodeId, peerUrl),
        dataKey: Buffer.from(dataKey).toString("base64"),
        ...(unlockKey ? { unlockKey } : {}),
      };
    },
  };
}

/**
 * Before a joining manager starts its runtime: pick its etcd ports, have `managerAddr` add its
 * member, take the cluster's unlock key (autolock) and save the data key under it, and record the
 * initial cluster in `state` (the caller saves state).
 */
export async function prepareManagerJoin(
  state: NodeState,
  keys: NodeKeys,
  managerAddr: string,
  clusterApiAddr: string,
  credentials: NodeCredentials,
): Promise<void> {
  const etcd = { clientPort: await freePort(), peerPort: await freePort(), peerTls: true };
  const url = peerUrl(state.advertiseAddr, etcd.peerPort, true);
  const reply = await joinEtcdCluster(managerAddr, credentials, { peerUrl: url, addr: clusterApiAddr });
  await keys.setKek(reply.unlockKey ? parseUnlockKey(reply.unlockKey) : undefined);
  await keys.dataKeys().save(Buffer.from(reply.dataKey, "base64"));
  state.etcd = { ...etcd, initialCluster: reply.initialCluster };
}
