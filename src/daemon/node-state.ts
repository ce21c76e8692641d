import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * What a node remembers about its swarm membership across restarts, in `<data-dir>/swarm/state.json`.
 * Everything a node owns as a swarm member lives under `<data-dir>/swarm`, so leaving removes it.
 */
export interface NodeState {
  nodeId: string;
  clusterId: string;
  role: "manager" | "worker";
  /** The address other nodes reach this one at (no port). */
  advertiseAddr: string;
  /** host:port of the cluster API. */
  listenAddr: string;
  etcd: {
    clientPort: number;
    peerPort: number;
    /**
     * Peers speak mutual TLS on the advertise address (every swarm created or joined since managers
     * became etcd members); absent on older single-manager state, whose member stays on loopback.
     */
    peerTls?: boolean;
    /** The `--initial-cluster` a joining manager's member first starts with (ignored once it has data). */
    initialCluster?: string;
    /**
     * Start the member with etcd's --force-new-cluster (`swarm init --force-new-cluster`). Passed
     * to the runtime once, never saved: a restart must not drop the members added since.
     */
    forceNewCluster?: boolean;
  };
  /** Cluster API addresses (host:port) of managers this node knows; a worker's way in. */
  managers?: string[];
}

export const swarmDir = (dataDir: string): string => join(dataDir, "swarm");

export function loadNodeState(dataDir: string): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(join(swarmDir(dataDir), "state.json"), "utf8")) as NodeState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Written atomically (temp file + rename) so a kill -9 never leaves half a file. */
export function saveNodeState(dataDir: string, state: NodeState): void {
  const dir = swarmDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, "state.json.tmp");
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, join(dir, "state.json"));
}

export function removeSwarmState(dataDir: string): void {
  rmSync(swarmDir(dataDir), { recursive: true, force: true });
}
