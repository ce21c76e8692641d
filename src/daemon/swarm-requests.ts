/**
 * `swarm init` and `swarm join` requests checked and turned into what the node saves: the bad
 * field is named before anything is written (swarm-node.ts runs the change).
 */
import type { SwarmSpec } from "../api/index.ts";
import type { Ids } from "../base/index.ts";
import { invalidArgument } from "../base/index.ts";
import type { SwarmInitRequest, SwarmJoinRequest } from "../engineapi/index.ts";
import { mergeSwarmSpec, validateSwarmSpec } from "../manager/controlapi/index.ts";
import { DEFAULT_SWARM_PORT, type ResolvedAddrs, resolveAddrs } from "./addr.ts";
import { initAutolock } from "./autolock.ts";
import type { NodeState } from "./node-state.ts";
import type { JoinedNode } from "./swarm-deps.ts";
import { parseAvailability } from "./swarm-texts.ts";

export interface InitPlan {
  state: NodeState;
  spec: SwarmSpec;
  unlockKey: string | undefined;
  availability: "active" | "pause" | "drain";
  advertisePort: number;
}

/** A new swarm's first manager: fresh node and cluster IDs, the merged spec, the unlock key. */
export function planInit(req: SwarmInitRequest, ids: Ids): InitPlan {
  const merged = mergeSwarmSpec(req.Spec as SwarmSpec | undefined);
  validateSwarmSpec(merged);
  const { spec, unlockKey } = initAutolock(req.AutoLockManagers, merged, ids);
  const availability = parseAvailability(req.Availability);
  const dataPathPort = req.DataPathPort || 4789;
  if (dataPathPort < 1024 || dataPathPort > 49151) {
    throw invalidArgument(`data path port must be within 1024-49151 range, got ${dataPathPort}`);
  }
  const addrs = resolveAddrs(req.ListenAddr, req.AdvertiseAddr);
  const state: NodeState = {
    nodeId: ids.newId(),
    clusterId: ids.newId(),
    role: "manager",
    advertiseAddr: addrs.advertiseAddr,
    listenAddr: `${addrs.listenHost}:${addrs.listenPort}`,
    etcd: { clientPort: 0, peerPort: 0 },
    managers: [`${addrs.advertiseAddr}:${addrs.advertisePort}`],
  };
  return { state, spec, unlockKey, availability, advertisePort: addrs.advertisePort };
}

export interface JoinPlan {
  managerAddr: string;
  token: string;
  availability: "active" | "pause" | "drain";
  addrs: ResolvedAddrs;
}

/** The manager to join through (the first remote address, on the swarm port by default). */
export function planJoin(req: SwarmJoinRequest): JoinPlan {
  const remote = req.RemoteAddrs?.[0];
  if (!remote) throw invalidArgument("at least 1 RemoteAddr is required to join");
  if (!req.JoinToken) throw invalidArgument("a join token is required to join a swarm");
  const managerAddr = remote.includes(":") ? remote : `${remote}:${DEFAULT_SWARM_PORT}`;
  const availability = parseAvailability(req.Availability);
  const addrs = resolveAddrs(req.ListenAddr, req.AdvertiseAddr);
  return { managerAddr, token: req.JoinToken, availability, addrs };
}

/** What a node that joined saves: its managers start as the one it joined through. */
export function joinedState(joined: JoinedNode, plan: JoinPlan): NodeState {
  return {
    nodeId: joined.nodeId,
    clusterId: joined.clusterId,
    role: joined.role,
    advertiseAddr: plan.addrs.advertiseAddr,
    listenAddr: `${plan.addrs.listenHost}:${plan.addrs.listenPort}`,
    etcd: { clientPort: 0, peerPort: 0 },
    managers: [plan.managerAddr],
  };
}
