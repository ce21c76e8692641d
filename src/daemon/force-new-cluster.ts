/**
 * `swarm init --force-new-cluster` on a manager of a swarm that lost its quorum (SwarmKit's
 * ForceNewCluster). Its etcd member restarts alone from its own data (etcd's --force-new-cluster
 * drops every other member), so the swarm keeps its ID, services, secrets, configs and workers.
 * The other managers keep their node objects, as in Swarm, but no longer count as managers: their
 * etcd members are gone, so they are recorded as down workers (which also keeps them out of every
 * quorum check), and `docker node rm` removes them. The requested spec is applied as moby's
 * initClusterSpec does, except that a plain `init --force-new-cluster` leaves autolock and the CA
 * rotation counter as they were.
 */
import { isDeepStrictEqual } from "node:util";
import type { Node, SwarmSpec } from "../api/index.ts";
import type { Clock } from "../base/index.ts";
import { timestamp } from "../base/index.ts";
import type { SwarmInitRequest } from "../engineapi/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";
import { mergeSwarmSpec } from "../manager/controlapi/index.ts";
import type { Store } from "../store/types.ts";

export const FORCED_OUT_MESSAGE = "manager removed by swarm init --force-new-cluster";

/** Pure: the node objects that change, given every node, this manager's ID and the time. */
export function forcedClusterNodes(nodes: readonly Node[], selfId: string, now: string): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    if (n.ID === selfId) {
      const want = { Leader: true, Reachability: "reachable" as const, Addr: n.ManagerStatus?.Addr ?? "" };
      if (n.Spec?.Role === "manager" && isDeepStrictEqual(n.ManagerStatus, want)) continue;
      out.push({ ...n, Spec: { ...n.Spec, Role: "manager" }, ManagerStatus: want, UpdatedAt: now });
    } else if (n.Spec?.Role === "manager" || n.ManagerStatus) {
      out.push({
        ...n,
        Spec: { ...n.Spec, Role: "worker" },
        ManagerStatus: null,
        Status: { ...n.Status, State: "down", Message: FORCED_OUT_MESSAGE },
        UpdatedAt: now,
      });
    }
  }
  return out;
}

/** Pure: the cluster spec after the init request. */
export function forcedClusterSpec(existing: SwarmSpec, req: SwarmInitRequest): SwarmSpec {
  const merged = mergeSwarmSpec(req.Spec as SwarmSpec | undefined, existing);
  return {
    ...merged,
    CAConfig: { ...merged.CAConfig, ForceRotate: existing.CAConfig?.ForceRotate ?? 0 },
    EncryptionConfig: req.AutoLockManagers
      ? { AutoLockManagers: true }
      : (existing.EncryptionConfig ?? { AutoLockManagers: false }),
  };
}

/** Once the lone member runs: the node table, then the spec (through the control API's checks). */
export async function reformAsSoleManager(
  store: Store,
  control: ControlApi,
  selfId: string,
  req: SwarmInitRequest,
  clock: Clock,
): Promise<void> {
  await store.update((tx) => {
    for (const n of forcedClusterNodes(tx.list("nodes"), selfId, timestamp(clock))) tx.update("nodes", n);
  });
  const swarm = control.inspectSwarm();
  const spec = forcedClusterSpec(swarm.Spec ?? {}, req);
  if (isDeepStrictEqual(spec, swarm.Spec)) return;
  await control.updateSwarm(spec, {
    version: swarm.Version?.Index ?? 0,
    rotateWorkerToken: false,
    rotateManagerToken: false,
    rotateManagerUnlockKey: false,
  });
}
