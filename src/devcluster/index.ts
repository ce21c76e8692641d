/**
 * Local multi-node clusters on one machine: network namespaces with their own containerd, dockerd
 * and shoal daemon, a bridge, a registry. Used by `shoal up` / `shoal down` (persistent clusters
 * recorded under /var/lib/shoal/devcluster) and by the cluster tests (test/cluster/harness.ts).
 */
export { type CleanupReport, cleanup } from "./cleanup.ts";
export {
  ClusterStartError,
  DevCluster,
  type DevClusterOptions,
  type ProcessMemory,
  preflight,
  type Timings,
} from "./cluster.ts";
export { pingSocket } from "./daemon.ts";
export { ensureHostImages, TEST_IMAGE } from "./images.ts";
export type { PartitionDirection } from "./network.ts";
export { ClusterNode, type ShoalStartOptions } from "./node.ts";
export { findRecorded, persistentInstances, type Recorded, removeCluster, unhealthy } from "./persistent.ts";
export { httpStatus, type Registry } from "./registry.ts";
export {
  DEVCLUSTER_STATE_ROOT,
  readRecord,
  recordDir,
  recordNames,
  removeRecord,
  socketLink,
  type UpRecord,
  writeRecord,
} from "./state.ts";
export type { SwarmOptions, SwarmResult } from "./swarm.ts";
export { type CmdResult, waitFor } from "./sys.ts";
export { leftovers, type Manifest, ownerAlive, readManifest } from "./teardown.ts";
