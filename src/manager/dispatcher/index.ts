/** manager/dispatcher: agent sessions, node liveness, task status write-back. */
export { applyStatus, completeAssignment, incrementalAssignment, isAssignedTo } from "./assignments.ts";
export type { DispatcherConfig, DispatcherDeps } from "./dispatcher.ts";
export { Dispatcher, defaultDispatcherConfig } from "./dispatcher.ts";
