/** manager/membership: the leader's view of the managers (ManagerStatus on their nodes). */
export type { ManagerStatusOptions } from "./status.ts";
export { defaultManagerStatusTiming, managerStatusChanges, runManagerStatus } from "./status.ts";
