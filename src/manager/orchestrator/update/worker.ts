/**
 * What one updater worker does with one dirty slot (SwarmKit `Updater.worker`, `updateTask`,
 * `useExistingTask`), as decisions on a Plan. The waiting SwarmKit's worker does (for the old task
 * to stop, for the new one to run, the delay after it) is not done here: the held task's
 * `DelayedStart` lets the restart supervisor start it, and `progress.ts` reads from the tasks when
 * the worker would be free again.
 */
import type { SwarmService, SwarmTask } from "../../../api/index.ts";
import { TaskStates } from "../../../api/index.ts";
import type { Ids } from "../../../base/index.ts";
import { desiredOf, isoTime, serviceMode } from "../../common/index.ts";
import type { Plan } from "../plan.ts";
import { OLD_TASK_TIMEOUT_MS } from "../restart.ts";
import { newTask } from "../task.ts";
import type { UpdateOrder } from "./config.ts";
import { type RolloutView, taskIsDirty } from "./progress.ts";

export interface WorkerContext {
  plan: Plan;
  view: RolloutView;
  ids: Ids;
  order: UpdateOrder;
}

/** Replaces (or settles) one dirty slot. Returns false when it had to leave the slot as it was. */
export function updateSlot(ctx: WorkerContext, slot: readonly SwarmTask[]): boolean {
  const current = slot.map((t) => ctx.plan.get(t.ID) ?? t);
  const clean = current.filter((t) => !taskIsDirty(ctx.view, t));
  const running = clean.find((t) => t.DesiredState === "running");
  const held = clean.filter((t) => desiredOf(t) < TaskStates.running).at(-1);
  const existing = running ?? held;
  if (existing) return useExistingTask(ctx, current, existing);
  createReplacement(ctx, current);
  return true;
}

/** Sets every runnable task of the list to desired SHUTDOWN; returns one of them. */
function shutDown(plan: Plan, tasks: readonly SwarmTask[]): SwarmTask | undefined {
  let old: SwarmTask | undefined;
  for (const t of tasks) {
    if (desiredOf(t) > TaskStates.running) continue;
    if (plan.setDesired(t, "shutdown")) old = t;
  }
  return old;
}

/** Held until `old` has stopped (at most a minute), as SwarmKit's `DelayStart(…, waitStop)`. */
function waitFor(
  old: SwarmTask | undefined,
  now: number,
  notBefore = isoTime(now),
): SwarmTask["DelayedStart"] {
  if (!old) return { NotBefore: notBefore };
  return { NotBefore: notBefore, WaitForTask: old.ID, Deadline: isoTime(now + OLD_TASK_TIMEOUT_MS) };
}

/**
 * The slot already has an up-to-date task: keep it, shut the others down, and start it once they
 * have stopped. With start-first the others stay until the kept task is observed RUNNING (the
 * restart supervisor's `settleSlot` then shuts them down), so the slot never has nothing running.
 */
function useExistingTask(ctx: WorkerContext, slot: readonly SwarmTask[], existing: SwarmTask): boolean {
  const { plan } = ctx;
  const others = slot.filter((t) => t.ID !== existing.ID && desiredOf(t) <= TaskStates.running);
  if (ctx.order === "start-first" && others.length > 0 && existing.Status?.State !== "running") return false;
  const old = shutDown(plan, others);
  if (desiredOf(existing) >= TaskStates.running) return old !== undefined;
  const latest = plan.get(existing.ID) ?? existing;
  if (!old && latest.DelayedStart) return false;
  const notBefore = latest.DelayedStart?.NotBefore;
  plan.replace({ ...latest, DelayedStart: waitFor(old, plan.now, notBefore) });
  return true;
}

/**
 * A new task for the slot (same slot number, or same node for global services), marked as the
 * rollout's. Stop-first: the old tasks are shut down in the same pass and the new one is held at
 * desired READY until they have stopped. Start-first: the new one runs at once beside the old.
 */
function createReplacement(ctx: WorkerContext, slot: readonly SwarmTask[]): void {
  const { plan, view } = ctx;
  const first = slot[0] as SwarmTask;
  const place =
    serviceMode(view.service) === "global" ? { nodeId: first.NodeID ?? "" } : { slot: first.Slot ?? 0 };
  const task: SwarmTask = {
    ...newTask(view.service as SwarmService, place, ctx.ids, plan.now),
    UpdateMonitor: {},
  };
  if (ctx.order === "stop-first") {
    const old = shutDown(plan, slot);
    task.DesiredState = "ready";
    task.DelayedStart = waitFor(old, plan.now);
  }
  plan.create(task);
}
