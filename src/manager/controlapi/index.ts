/** manager/controlapi: validated reads and writes of cluster objects for the Engine API. */
export { nextUnlockKey } from "./autolock.ts";
export type { ControlDeps } from "./controlapi.ts";
export { ControlApiImpl, currentCluster } from "./controlapi.ts";
export type { NetworkCreateRequest } from "./network-spec.ts";
export type { EspProbe } from "./networks.ts";
export { ESP_MISSING, newIngressNetwork } from "./networks.ts";
export type { StackRevision, StackRevisionRequest, StackSummary } from "./stacks.ts";
export {
  clusterInfo,
  DEFAULT_CLUSTER_NAME,
  defaultSwarmSpec,
  mergeSwarmSpec,
  publicSwarm,
  rpcText,
  validateSwarmSpec,
  zeroSwarmSpec,
} from "./swarm.ts";
export type {
  ControlApi,
  Filters,
  ServiceCreateResult,
  ServiceListOptions,
  ServiceReadOptions,
  ServiceUpdateOptions,
  ServiceUpdateResult,
  SwarmUpdateFlags,
} from "./types.ts";
