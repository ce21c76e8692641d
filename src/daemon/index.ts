/** daemon: the composition root that wires one shoal node together. */
export type { DaemonConfig } from "./config.ts";
export { defaultDaemonConfig, validateDaemonConfig } from "./config.ts";
export { runDaemon } from "./run.ts";
export type { NodeRuntime } from "./runtime.ts";
export type { JoinedNode, SwarmNodeDeps } from "./swarm-node.ts";
export { SwarmNode } from "./swarm-node.ts";
