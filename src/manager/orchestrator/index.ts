/**
 * manager/orchestrator: the orchestrators' pure decision cores. Each reconcile function takes one
 * service, its tasks, the nodes, `now` and an ID source, and returns plain `Decisions` (tasks to
 * create, desired-state updates, deletions, and when to wake up) for a controller to apply in one
 * transaction. Nothing here reads a clock, draws randomness or touches the store.
 */

/** SwarmKit's `IsTaskDirty`, shared with the control API's `_up-to-date` filter. */
export { isTaskDirty } from "../common/index.ts";
export { globalEligible, reconcileGlobal, serviceConstraintsMatch } from "./global.ts";
export { reconcileGlobalJob, reconcileReplicatedJob } from "./jobs.ts";
export type { Decisions } from "./plan.ts";
export { noDecisions, Plan } from "./plan.ts";
export type { ReaperInput } from "./reaper.ts";
export {
  DEFAULT_TASK_HISTORY_RETENTION_LIMIT,
  historyLimit,
  reapTasks,
  removeServiceTasks,
} from "./reaper.ts";
export type { ReconcileInput, ReplicatedDecisions } from "./replicated.ts";
export { needsRestart, reconcileReplicated, scaleDownOrder } from "./replicated.ts";
export type { ReplicatedControllerDeps } from "./replicated-controller.ts";
export { replicatedStep, runReplicatedOrchestrator, unitsFor } from "./replicated-controller.ts";
export type { RestartCondition, RestartContext, RestartDecision, RestartQuestion } from "./restart.ts";
export {
  DEFAULT_RESTART_DELAY_MS,
  decideRestart,
  OLD_TASK_TIMEOUT_MS,
  restartCondition,
  restartDelayMs,
  restartTask,
  settleSlot,
  shouldRestart,
  startDelayedTasks,
  updatableTasksInSlot,
} from "./restart.ts";
export type { TaskPlace } from "./task.ts";
export {
  byCreation,
  byTimestamp,
  groupSlots,
  MSG_CREATED,
  newTask,
  sameSpecVersion,
  slotKey,
} from "./task.ts";
/** The rolling updater (SwarmKit `update/updater.go`) as a pure, level-triggered step. */
export type { FailureAction, RolloutConfig, UpdateOrder } from "./update/config.ts";
export { DEFAULT_ROLLOUT, MSG as UPDATE_MESSAGES, rolloutConfig } from "./update/config.ts";
export { applyDecisions, mergeDecisions, serviceStatusUnit } from "./update/merge.ts";
export type { ServiceStatusChange, UpdaterDecisions, UpdaterInput } from "./update/updater.ts";
export { rollingUpdate } from "./update/updater.ts";
