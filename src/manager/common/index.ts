/**
 * manager/common: pure helpers shared by the manager's loops (scheduler, orchestrators, enforcer).
 * Loops import each other never; what they share lives here.
 */
export type { Constraint, ConstraintOperator } from "./constraint.ts";
export {
  ENGINE_LABEL_PREFIX,
  hasPrefixFold,
  NODE_LABEL_PREFIX,
  nodeMatches,
  nodeRole,
  parseConstraints,
  tryParseConstraints,
} from "./constraint.ts";
export { canonicalJson, groupBy, specsEqual } from "./spec.ts";
export { isTaskDirty } from "./task-dirty.ts";
export type { Reservations, ServiceMode } from "./tasks.ts";
export {
  desiredOf,
  hostPortsOf,
  invalidNode,
  isJobMode,
  isoTime,
  nodeResources,
  parseTime,
  reservationsOf,
  serviceMode,
  stateOf,
  taskTimestamp,
} from "./tasks.ts";
