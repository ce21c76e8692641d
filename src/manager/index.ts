/** manager: the control plane of a manager node (dispatcher on every manager, loops on the leader). */

export type { ControllerLoopOptions } from "./common/loop.ts";
export { runControllerLoop } from "./common/loop.ts";
export { electionLeadership } from "./leadership.ts";
export type { LeaderLoop, Leadership, LoopDeps, ManagerDeps } from "./manager.ts";
export { Manager, soleLeadership } from "./manager.ts";
export type { ManagerStatusOptions } from "./membership/index.ts";
export { defaultManagerStatusTiming, runManagerStatus } from "./membership/index.ts";
