/** manager: the control plane of a manager node (dispatcher on every manager, loops on the leader). */
export type { LeaderLoop, Leadership, LoopDeps, ManagerDeps } from "./manager.ts";
export { Manager, soleLeadership } from "./manager.ts";
