/** What SwarmNode (swarm-node.ts) needs from the rest of the daemon, wired in run.ts. */
import type { NodeDescription } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import type { EspProbe } from "../manager/controlapi/index.ts";
import type { NodeKeys } from "./node-keys.ts";
import type { NodeState } from "./node-state.ts";
import type { NodeRuntime } from "./runtime.ts";

export interface JoinedNode {
  nodeId: string;
  role: "manager" | "worker";
  clusterId: string;
  credentials: NodeCredentials;
}

export interface SwarmNodeDeps {
  dataDir: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** The node's TLS and data keys: wrapped with autolock, and what `swarm unlock` opens. */
  keys: NodeKeys;
  /**
   * Starts what the node runs for its role; `fresh` on swarm init (new store). The runtime calls
   * `onRoleChange` when a promotion or demotion needs the node to run the other role.
   */
  startRuntime(
    state: NodeState,
    fresh: boolean,
    onRoleChange: (role: "manager" | "worker", managers: string[]) => void,
  ): Promise<NodeRuntime>;
  /** Joins through a manager's cluster API with a token: certificate and node ID. */
  join(
    addr: string,
    token: string,
    availability: "active" | "pause" | "drain",
    advertiseAddr: string,
  ): Promise<JoinedNode>;
  /**
   * A node that joined as a manager becomes an etcd member through `managerAddr` before its
   * runtime starts (fills in `state.etcd`); absent: joining as a manager is not supported.
   */
  prepareManager?(state: NodeState, managerAddr: string, credentials: NodeCredentials): Promise<void>;
  /** The node's description (hostname, platform, resources, engine) as the agent sees it. */
  describeNode(): Promise<NodeDescription>;
  /** Whether the kernel has IPsec ESP, for encrypted overlays (absent: treated as missing). */
  espSupported?: EspProbe;
}
