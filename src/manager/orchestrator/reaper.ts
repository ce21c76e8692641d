/**
 * The task reaper (SwarmKit `orchestrator/taskreaper`), pure: which tasks to delete from the store.
 * Deleting a task is what makes its node remove the container, so only stopped tasks, or tasks
 * that will never run, are deleted — except tasks of a service that no longer exists that were
 * not marked REMOVE, which SwarmKit deletes outright.
 */
import type { SwarmService, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { desiredOf, isoTime, serviceMode, stateOf } from "../common/index.ts";
import { byTimestamp } from "./task.ts";

/** SwarmKit's `defaultTaskHistoryRetentionLimit`; the live task counts towards it. */
export const DEFAULT_TASK_HISTORY_RETENTION_LIMIT = 5;

export interface ReaperInput {
  tasks: readonly SwarmTask[];
  services: ReadonlyMap<string, SwarmService>;
  /** The cluster's `Orchestration.TaskHistoryRetentionLimit`; negative keeps everything. */
  retentionLimit?: number;
}

const terminal = (t: SwarmTask): boolean => stateOf(t) > TaskStates.running;
const willNeverRun = (t: SwarmTask): boolean =>
  stateOf(t) < TaskStates.assigned && desiredOf(t) > TaskStates.running;

/** IDs of the tasks to delete, sorted. */
export function reapTasks(input: ReaperInput): string[] {
  const doomed = new Set<string>();
  const slots = new Map<string, SwarmTask[]>();
  for (const t of input.tasks) {
    const service = t.ServiceID ? input.services.get(t.ServiceID) : undefined;
    if (!t.ServiceID) {
      if (stateOf(t) >= TaskStates.orphaned) doomed.add(t.ID);
      continue;
    }
    // Removed slots (scale-down, service removal) once stopped or never started.
    const stopped = stateOf(t) < TaskStates.assigned || stateOf(t) >= TaskStates.complete;
    if (t.DesiredState === "remove" && stopped) {
      doomed.add(t.ID);
      continue;
    }
    if (!service) {
      // Service gone: tasks it marked REMOVE wait above until they stop; any other is deleted
      // outright, as SwarmKit's taskinit does.
      if (t.DesiredState !== "remove") doomed.add(t.ID);
      continue;
    }
    const mode = serviceMode(service);
    if (mode !== "replicated" && mode !== "global") continue; // job history is not trimmed
    const key =
      mode === "global" ? `${t.ServiceID}/node/${t.NodeID ?? ""}` : `${t.ServiceID}/slot/${t.Slot ?? 0}`;
    const list = slots.get(key);
    if (list) list.push(t);
    else slots.set(key, [t]);
  }
  for (const slot of slots.values()) {
    const service = input.services.get(slot[0]?.ServiceID as string) as SwarmService;
    for (const t of trimSlot(slot, historyLimit(service, input.retentionLimit))) doomed.add(t.ID);
  }
  return [...doomed].sort();
}

/** The retention for a service: MaxAttempts+1 when set, so restart history can be rebuilt. */
export function historyLimit(service: SwarmService, retentionLimit?: number): number {
  const maxAttempts = service.Spec?.TaskTemplate?.RestartPolicy?.MaxAttempts ?? 0;
  if (maxAttempts > 0) return maxAttempts + 1;
  return retentionLimit ?? DEFAULT_TASK_HISTORY_RETENTION_LIMIT;
}

/** The oldest stopped (or never-to-run) tasks of a slot beyond the limit. */
function trimSlot(slot: SwarmTask[], limit: number): SwarmTask[] {
  if (limit < 0 || slot.length <= limit) return [];
  const out: SwarmTask[] = [];
  let keep = slot.length;
  for (const t of [...slot].sort(byTimestamp)) {
    if (keep <= limit) break;
    if (terminal(t) || willNeverRun(t)) {
      out.push(t);
      keep--;
    }
  }
  return out;
}

/** Service removal (SwarmKit `SetServiceTasksRemove`): every task of the service to desired REMOVE. */
export function removeServiceTasks(tasks: readonly SwarmTask[], now: number): SwarmTask[] {
  const at = isoTime(now);
  return tasks
    .filter((t) => desiredOf(t) < TaskStates.remove)
    .map((t) => ({ ...t, DesiredState: "remove" as const, UpdatedAt: at }));
}
