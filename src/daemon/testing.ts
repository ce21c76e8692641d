/** Test support for the daemon's unit tests: a saved membership to start from. Not used by production code. */
import type { NodeState } from "./node-state.ts";

/** Manager n1 of cluster c1 at 10.0.0.1, the one manager it knows; `overrides` replace whole fields. */
export function managerState(overrides: Partial<NodeState> = {}): NodeState {
  return {
    nodeId: "n1",
    clusterId: "c1",
    role: "manager",
    advertiseAddr: "10.0.0.1",
    listenAddr: "0.0.0.0:2377",
    etcd: { clientPort: 2379, peerPort: 2380 },
    managers: ["10.0.0.1:2377"],
    ...overrides,
  };
}
