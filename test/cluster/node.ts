/** Moved to src/devcluster (shared with `shoal up`); kept so that existing imports work. */
export {
  BINARIES,
  type Daemon,
  DOCKER_CLI,
  pingSocket,
  REPO,
  SHOAL_BIN,
  spawnDaemon,
  tail,
} from "../../src/devcluster/daemon.ts";
export { isForeignMount } from "../../src/devcluster/namespaces.ts";
export { ClusterNode, type NodeOptions, type ShoalStartOptions } from "../../src/devcluster/node.ts";
