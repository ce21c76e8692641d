/**
 * The restart supervisor as pure functions (SwarmKit `orchestrator/restart`). A failed task, or one
 * on a node that went down or was drained, is set to desired SHUTDOWN; if the restart policy
 * allows, a replacement is created in the same slot (same node for global modes) at desired READY,
 * so the agent pulls and creates but does not start it. It is started once the restart delay has
 * passed (no delay when the old node is drained) and the old task has stopped, or its node is
 * down or gone, or a minute has passed. Restart history is read from the slot's tasks (the reaper
 * keeps MaxAttempts+1 of them for exactly this), so it survives a leader change.
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { type Ids, NANOS_PER_MS } from "../../base/index.ts";
import {
  isJobMode,
  isoTime,
  isTaskDirty,
  parseTime,
  serviceMode,
  stateOf,
  taskTimestamp,
} from "../common/index.ts";
import type { Plan } from "./plan.ts";
import { byCreation, byTimestamp, newTask, sameSpecVersion, slotKey } from "./task.ts";

/** SwarmKit's defaults: condition any, delay 5 s; `defaultOldTaskTimeout` is one minute. */
export const DEFAULT_RESTART_DELAY_MS = 5_000;
export const OLD_TASK_TIMEOUT_MS = 60_000;

export type RestartCondition = "none" | "on-failure" | "any";

export const restartCondition = (t: SwarmTask): RestartCondition => t.Spec?.RestartPolicy?.Condition ?? "any";

/** The restart delay of a task's policy in ms (the spec carries nanoseconds). */
export function restartDelayMs(t: SwarmTask): number {
  const ns = t.Spec?.RestartPolicy?.Delay;
  return ns === undefined || ns < 0 ? DEFAULT_RESTART_DELAY_MS : Math.floor(ns / NANOS_PER_MS);
}

/**
 * Would the policy restart this stopped task? `slot` is every task of its slot: restarts are
 * the tasks of the same spec version after the first, stamped with their creation time.
 */
export function shouldRestart(t: SwarmTask, service: SwarmService, slot: readonly SwarmTask[]): boolean {
  const condition = restartCondition(t);
  const completed = t.Status?.State === "complete";
  if (condition === "none") return false;
  // Jobs treat "any" as "on-failure": restarting a completed job task makes no sense.
  if (completed && (condition === "on-failure" || isJobMode(serviceMode(service)))) return false;
  const max = t.Spec?.RestartPolicy?.MaxAttempts ?? 0;
  if (max <= 0) return true;
  const history = slot.filter((o) => sameSpecVersion(o, t)).sort(byCreation);
  const restarts = history.slice(1).map((o) => parseTime(o.CreatedAt) ?? 0);
  const windowNs = t.Spec?.RestartPolicy?.Window ?? 0;
  const failedAt = taskTimestamp(t);
  if (windowNs <= 0 || failedAt === undefined) return restarts.length < max;
  // Only restarts inside (failure − window, failure) count.
  const lookback = failedAt - Math.floor(windowNs / NANOS_PER_MS);
  return restarts.filter((at) => at > lookback && at < failedAt).length < max;
}

/**
 * SwarmKit's `UpdatableTasksInSlot`: the slot's tasks with desired ≤ RUNNING; or, if none, its
 * newest task when the policy would not restart it (so rolling updates still reach it), except
 * during a rollback. An empty result means the slot is dead.
 */
export function updatableTasksInSlot(slot: readonly SwarmTask[], service: SwarmService): SwarmTask[] {
  const live = slot.filter((t) => TaskStates[t.DesiredState ?? "new"] <= TaskStates.running);
  if (live.length > 0 || slot.length === 0) return live;
  if (service.UpdateStatus?.State === "rollback_started") return [];
  const newest = [...slot].sort(byTimestamp).at(-1) as SwarmTask;
  return shouldRestart(newest, service, slot) ? [] : [newest];
}

/**
 * Does `o` already hold the slot `t` is leaving: desired ≤ RUNNING; for jobs, a task of the same
 * iteration with desired ≤ COMPLETE that has not completed.
 */
function holdsSlot(o: SwarmTask, t: SwarmTask, service: SwarmService): boolean {
  if (!isJobMode(serviceMode(service))) return TaskStates[o.DesiredState ?? "new"] <= TaskStates.running;
  return (
    o.JobIteration?.Index === t.JobIteration?.Index &&
    TaskStates[o.DesiredState ?? "new"] <= TaskStates.complete &&
    o.Status?.State !== "complete"
  );
}

/** When a held (desired READY) task may start, or undefined if it is not held. */
function startTime(t: SwarmTask, plan: Plan, nodes: ReadonlyMap<string, Node>): number | undefined {
  if (t.DesiredState !== "ready") return undefined;
  const d = t.DelayedStart;
  // A held task without a record (made elsewhere): SwarmKit's taskinit starts it one delay after
  // its status time.
  const notBefore = d ? (parseTime(d.NotBefore) ?? 0) : (taskTimestamp(t) ?? 0) + restartDelayMs(t);
  if (plan.now < notBefore) return notBefore;
  const old = d?.WaitForTask ? plan.get(d.WaitForTask) : undefined;
  const deadline = parseTime(d?.Deadline) ?? 0;
  if (!old || plan.now >= deadline || stateOf(old) > TaskStates.running) return notBefore;
  const node = old.NodeID ? nodes.get(old.NodeID) : undefined;
  if (!old.NodeID || !node || node.Status?.State === "down") return notBefore;
  return deadline; // still waiting for the old task: at the latest until the deadline
}

/**
 * Starts held tasks whose delay and wait are over (SwarmKit `StartNow`: desired RUNNING, or
 * COMPLETE for job tasks), and asks to be woken when the next one falls due.
 */
export function startDelayedTasks(plan: Plan, nodes: ReadonlyMap<string, Node>): void {
  for (const t of plan.tasks()) {
    if (stateOf(t) > TaskStates.complete) continue; // failed while held: restarted instead
    const at = startTime(t, plan, nodes);
    if (at === undefined) continue;
    if (at > plan.now) {
      plan.wakeAt(at);
      continue;
    }
    plan.setDesired(t, t.JobIteration ? "complete" : "running");
  }
}

export interface RestartContext {
  plan: Plan;
  service: SwarmService;
  nodes: ReadonlyMap<string, Node>;
  ids: Ids;
}

/** What the restart supervisor does with a task that stopped or lost its node. */
export type RestartDecision =
  /** It is itself a held replacement still waiting out its delay: decide again at `at`. */
  | { action: "later"; at: number }
  /** Already shut down: nothing to do. */
  | { action: "none" }
  /** Shut it down, no replacement (the policy says no, or the slot already has one). */
  | { action: "shutdown" }
  /** Shut it down and create a replacement held until `notBefore` (and the old task's stop). */
  | { action: "replace"; notBefore: number; waitForTask?: string; deadline?: number };

export interface RestartQuestion {
  task: SwarmTask;
  service: SwarmService;
  /** Every task of the task's slot (its node, for global modes), the task included. */
  slot: readonly SwarmTask[];
  /** The task's node, if it has one and it still exists. */
  node?: Node;
  now: number;
  /** When the task itself, if held at desired READY, may start (see `startDelayedTasks`). */
  heldUntil?: number;
}

/**
 * SwarmKit `Restart` as a decision: restart now (replacement held for the delay: none when the old
 * node is drained; waiting at most a minute for the old task to stop unless it already has or its
 * node is down), restart later (the task is still in its own delay: no tight loops, e.g. an image
 * that cannot be pulled), or do not restart.
 */
export function decideRestart(q: RestartQuestion): RestartDecision {
  const { task: t, service, slot, node, now } = q;
  if (q.heldUntil !== undefined && q.heldUntil > now) return { action: "later", at: q.heldUntil };
  if (TaskStates[t.DesiredState ?? "new"] > TaskStates.complete) return { action: "none" };
  if (!shouldRestart(t, service, slot)) return { action: "shutdown" };
  // Never a second replacement: if the slot already has a runnable task (a replacement whose
  // creation committed while this task's shutdown did not), shutting this one down is enough.
  if (slot.some((o) => o.ID !== t.ID && holdsSlot(o, t, service))) return { action: "shutdown" };
  const delay = node?.Spec?.Availability === "drain" ? 0 : restartDelayMs(t);
  const waitStop = node?.Status?.State !== "down" && stateOf(t) <= TaskStates.running;
  return {
    action: "replace",
    notBefore: now + delay,
    ...(waitStop ? { waitForTask: t.ID, deadline: now + OLD_TASK_TIMEOUT_MS } : {}),
  };
}

/** Applies `decideRestart` to a plan: the old task to desired SHUTDOWN, its held replacement. */
export function restartTask(ctx: RestartContext, task: SwarmTask): void {
  const { plan, service, nodes } = ctx;
  const t = plan.get(task.ID) ?? task;
  const node = t.NodeID ? nodes.get(t.NodeID) : undefined;
  const heldUntil = startTime(t, plan, nodes);
  const d = decideRestart({
    task: t,
    service,
    slot: plan.slot(slotKey(service, t)),
    now: plan.now,
    ...(node ? { node } : {}),
    ...(heldUntil !== undefined ? { heldUntil } : {}),
  });
  if (d.action === "later") plan.wakeAt(d.at);
  if (d.action === "later" || d.action === "none") return;
  plan.setDesired(t, "shutdown");
  if (d.action !== "replace") return;
  const mode = serviceMode(service);
  const place =
    mode === "global" || mode === "global-job" ? { nodeId: t.NodeID ?? "" } : { slot: t.Slot ?? 0 };
  const replacement = newTask(service, place, ctx.ids, plan.now);
  replacement.DesiredState = "ready";
  replacement.DelayedStart = {
    NotBefore: isoTime(d.notBefore),
    ...(d.waitForTask !== undefined ? { WaitForTask: d.waitForTask } : {}),
    ...(d.deadline !== undefined ? { Deadline: isoTime(d.deadline) } : {}),
  };
  plan.create(replacement);
}

/**
 * A slot with more than one runnable task (a start-first update, or writes that lost a race)
 * keeps one task once an up-to-date one is observed RUNNING: the newest such task stays and the
 * others are shut down — what SwarmKit's updater does for such slots ("use the existing task").
 * Returns the slot's runnable tasks after this.
 */
export function settleSlot(
  plan: Plan,
  service: SwarmService,
  slot: SwarmTask[],
  nodes: ReadonlyMap<string, Node>,
): SwarmTask[] {
  if (slot.length < 2) return slot;
  const keep = slot
    .filter((t) => t.DesiredState === "running" && t.Status?.State === "running")
    .filter((t) => !isTaskDirty(service, t, t.NodeID ? nodes.get(t.NodeID) : undefined))
    .sort(byCreation)
    .at(-1);
  if (!keep) return slot;
  for (const t of slot) if (t.ID !== keep.ID) plan.setDesired(t, "shutdown");
  return [plan.get(keep.ID) ?? keep];
}
