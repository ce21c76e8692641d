/**
 * manager/scheduler: the scheduler's pure decision core. `schedule` turns a snapshot of nodes and
 * tasks into placements (PENDING → ASSIGNED) and Swarm-worded explanations for tasks that fit
 * nowhere; `enforceConstraints` finds the tasks a changed node can no longer hold.
 */
export { ERR_NO_LONGER_MEETS, enforceConstraints, MSG_ENFORCER_REJECTED } from "./enforcer.ts";
export type { EnforcerDeps } from "./enforcer-controller.ts";
export { enforceNode, runConstraintEnforcer } from "./enforcer-controller.ts";
export type { Filter, Requirements } from "./filters.ts";
export { FILTERS, requirementsOf } from "./filters.ts";
export type { NodeInfo } from "./nodeinfo.ts";
export { buildNodeInfos, occupiesNode } from "./nodeinfo.ts";
export { noSuitableNode, Pipeline } from "./pipeline.ts";
export type { SchedulerInput, SchedulingDecisions } from "./schedule.ts";
export { MAX_FAILURES, MONITOR_FAILURES_MS, MSG_ASSIGNED, MSG_PREASSIGNED, schedule } from "./schedule.ts";
export type { DecisionTree, NodeLess } from "./spread.ts";
export { buildTree, spreadValue } from "./spread.ts";
