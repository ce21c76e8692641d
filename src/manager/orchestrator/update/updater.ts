/**
 * The rolling updater (SwarmKit `orchestrator/update/updater.go`) as a pure, level-triggered step:
 * given a replicated or global service, the runnable slots its reconciler kept, all its tasks, the
 * nodes and `now`, decide this pass's part of the rollout. Every pass recomputes from the store
 * what SwarmKit's goroutine remembers: which slots are dispatched, which workers are busy, which
 * new tasks are inside their monitor window (progress.ts). So a new leader resumes a rollout where
 * it stood, and a new spec supersedes it (its tasks become dirty and no longer count).
 *
 * One pass: nothing while paused. A rollout with dirty slots and no status starts ("updating",
 * StartedAt) and creates nothing until that status is stored, so every task of the rollout is
 * younger than its StartedAt. Then: record when new tasks reached RUNNING; apply the failure action
 * if failures / slots in the rollout > MaxFailureRatio; hand dirty, not yet dispatched slots to the
 * free workers (Parallelism minus busy ones); and once nothing is left, complete after the final
 * monitor period.
 */
import type { Node, SwarmService, SwarmTask, UpdateStatus } from "../../../api/index.ts";
import type { Ids } from "../../../base/index.ts";
import { isoTime, parseTime } from "../../common/index.ts";
import { type Decisions, Plan } from "../plan.ts";
import { slotKey } from "../task.ts";
import {
  finalMonitorMs,
  isActive,
  isPaused,
  isRollingBack,
  MSG,
  type RolloutConfig,
  rolloutConfig,
} from "./config.ts";
import {
  isBusy,
  isRolloutFailure,
  isRolloutTask,
  latestFailure,
  type RolloutView,
  reachedAt,
  slotIsDirty,
  taskIsDirty,
} from "./progress.ts";
import { updateSlot } from "./worker.ts";

export interface UpdaterInput {
  service: SwarmService;
  /** The runnable slots the mode reconciler kept, tasks as after its decisions. */
  slots: readonly (readonly SwarmTask[])[];
  /** Every task of the service as after the reconciler's decisions (history included). */
  tasks: readonly SwarmTask[];
  nodes: ReadonlyMap<string, Node>;
  now: number;
  ids: Ids;
}

/** A change to the service's UpdateStatus (and, for an automatic rollback, its spec). */
export interface ServiceStatusChange {
  serviceId: string;
  /** The service this was decided from: the write is skipped if its spec or status moved on. */
  basis: SwarmService;
  updateStatus: UpdateStatus;
  /** Automatic rollback: Spec ← PreviousSpec, SpecVersion ← PreviousSpecVersion, previous cleared. */
  rollback?: boolean;
}

export interface UpdaterDecisions extends Decisions {
  service?: ServiceStatusChange;
}

export function rollingUpdate(input: UpdaterInput): UpdaterDecisions {
  const { service, now } = input;
  const plan = new Plan(input.tasks, now, (t) => slotKey(service, t));
  const status = service.UpdateStatus ?? undefined;
  if (isPaused(status?.State)) return plan.decisions();
  const view: RolloutView = { service, nodes: input.nodes, now };
  const slots = [...input.slots].filter((s) => s.length > 0).sort(bySlotOrder);
  const dirty = slots.filter((s) => slotIsDirty(view, s));
  if (!status) {
    if (dirty.length === 0) return plan.decisions();
    return {
      ...plan.decisions(),
      service: change(service, { State: "updating", Message: MSG.inProgress, StartedAt: isoTime(now) }),
    };
  }
  const config = rolloutConfig(service);
  const ours = [...plan.values()].filter((t) => isRolloutTask(view, t));
  recordRunning(plan, ours);
  const dispatched = new Set(ours.map((t) => slotKey(service, t)));
  const inRollout = slots.filter((s) => dispatched.has(keyOf(service, s)) || slotIsDirty(view, s)).length;
  const tripped = isActive(status.State) ? failureAction(service, config, ours, inRollout) : undefined;
  if (tripped) return { ...plan.decisions(), service: tripped };

  let free = config.parallelism === 0 ? Number.POSITIVE_INFINITY : config.parallelism;
  free -= ours.filter((t) => isBusy(t, config, now)).length;
  // Slots still to do, or acted on in this pass (not done until the writes are stored).
  let outstanding = 0;
  const worker = { plan, view, ids: input.ids, order: config.order };
  for (const slot of dirty) {
    if (dispatched.has(keyOf(service, slot))) {
      // Its worker's writes landed only in part (an old task's shutdown lost a race): finish
      // with the up-to-date task already there. A slot whose new task failed is left alone.
      if (slot.some((t) => !taskIsDirty(view, t))) updateSlot(worker, slot);
      continue;
    }
    outstanding++;
    if (free > 0 && updateSlot(worker, slot)) free--;
  }
  const completed = finish(plan, service, config, ours, outstanding);
  return { ...plan.decisions(), ...(completed ? { service: completed } : {}) };
}

/**
 * The completion, once nothing is outstanding and no worker is busy and the final monitor period
 * is over; until then it asks (on the plan) to be woken when a worker's delay or that period ends.
 */
function finish(
  plan: Plan,
  service: SwarmService,
  config: RolloutConfig,
  ours: readonly SwarmTask[],
  outstanding: number,
): ServiceStatusChange | undefined {
  const reached = ours.map(reachedAt).filter((at): at is number => at !== undefined);
  for (const at of reached) plan.wakeAt(at + config.delayMs);
  const busy = ours.some((t) => isBusy(t, config, plan.now));
  if (outstanding > 0 || busy || !isActive(service.UpdateStatus?.State)) return undefined;
  const doneAt =
    reached.length > 0 ? Math.max(...reached) + config.delayMs + finalMonitorMs(config) : plan.now;
  if (plan.now < doneAt) {
    plan.wakeAt(doneAt);
    return undefined;
  }
  const back = isRollingBack(service);
  return change(service, {
    ...service.UpdateStatus,
    State: back ? "rollback_completed" : "completed",
    Message: back ? MSG.rollbackCompleted : MSG.completed,
    CompletedAt: isoTime(plan.now),
  });
}

/** Failures over the slots in the rollout above MaxFailureRatio: pause, or roll back (once). */
function failureAction(
  service: SwarmService,
  config: RolloutConfig,
  ours: readonly SwarmTask[],
  inRollout: number,
): ServiceStatusChange | undefined {
  if (config.failureAction === "continue") return undefined;
  const failures = ours.filter((t) => isRolloutFailure(t, config));
  const last = latestFailure(failures);
  if (!last || failures.length / Math.max(1, inRollout) <= config.maxFailureRatio) return undefined;
  const status = service.UpdateStatus ?? {};
  const back = isRollingBack(service);
  if (config.failureAction === "pause" || back || !service.PreviousSpec) {
    // A rollback is never rolled back; without a previous spec there is nothing to return to.
    const message =
      config.failureAction === "rollback" && back ? MSG.rollbackPaused(last.ID) : MSG.paused(last.ID);
    return change(service, { ...status, State: back ? "rollback_paused" : "paused", Message: message });
  }
  return {
    ...change(service, { ...status, State: "rollback_started", Message: MSG.rolledBack(last.ID) }),
    rollback: true,
  };
}

/** Stamps the moment a rollout task was first seen RUNNING (its monitor window starts there). */
function recordRunning(plan: Plan, ours: SwarmTask[]): void {
  for (const [i, t] of ours.entries()) {
    if (t.Status?.State !== "running" || t.UpdateMonitor?.RunningAt) continue;
    const at = Math.min(plan.now, parseTime(t.Status.Timestamp) ?? plan.now);
    const stamped = { ...t, UpdateMonitor: { ...t.UpdateMonitor, RunningAt: isoTime(at) } };
    plan.replace(stamped);
    ours[i] = stamped;
  }
}

const change = (service: SwarmService, updateStatus: UpdateStatus): ServiceStatusChange => ({
  serviceId: service.ID,
  basis: service,
  updateStatus,
});

const keyOf = (service: SwarmService, slot: readonly SwarmTask[]): string =>
  slotKey(service, slot[0] as SwarmTask);

/** Slots in slot-number order (global: node ID order), as SwarmKit hands them to its workers. */
function bySlotOrder(a: readonly SwarmTask[], b: readonly SwarmTask[]): number {
  const ta = a[0] as SwarmTask;
  const tb = b[0] as SwarmTask;
  return (
    (ta.Slot ?? 0) - (tb.Slot ?? 0) ||
    ((ta.NodeID ?? "") < (tb.NodeID ?? "") ? -1 : (ta.NodeID ?? "") > (tb.NodeID ?? "") ? 1 : 0)
  );
}
