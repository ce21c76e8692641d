/**
 * The allocator's task step: a new task gets the cluster resources it needs (network attachments,
 * addresses: those come with overlay networking) and moves to pending, ready for the scheduler.
 * A task that will never run (desired shutdown or remove) is left for the reaper; job tasks
 * (desired complete) and held restarts (desired ready) are allocated like any other.
 */
import type { Task } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";

export const MSG_PENDING = "pending task scheduling";

export function allocateTasks(tasks: readonly Task[], now: string): Task[] {
  const out: Task[] = [];
  for (const t of tasks) {
    if (t.Status?.State !== "new") continue;
    if (TaskStates[t.DesiredState ?? "running"] > TaskStates.complete) continue;
    out.push({ ...t, Status: { ...t.Status, State: "pending", Message: MSG_PENDING, Timestamp: now } });
  }
  return out;
}
