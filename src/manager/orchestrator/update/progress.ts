/**
 * Where a rollout stands, derived from the store alone (SwarmKit keeps this in the updater
 * goroutine's memory; shoal must resume it on a new leader and recompute it on every pass).
 *
 * - The rollout's tasks are those the updater made (`UpdateMonitor` set) for the current spec (not
 *   dirty) since `UpdateStatus.StartedAt`. Restart replacements are not the updater's: their
 *   failures do not count, as in SwarmKit.
 * - A worker is busy with a slot until its new task has reached RUNNING (or failed), then for
 *   `Delay` more. The moment it reached RUNNING is `UpdateMonitor.RunningAt`, else the status
 *   timestamp of a task that already is at or past RUNNING.
 * - A failure is a rollout task that completed, failed or was rejected before reaching RUNNING or
 *   within `Monitor` of it. Tasks the manager shut down (a stopped "shutdown") are not failures.
 */
import type { Node, SwarmService, SwarmTask } from "../../../api/index.ts";
import { TaskStates } from "../../../api/index.ts";
import { canonicalJson, desiredOf, isTaskDirty, parseTime, stateOf } from "../../common/index.ts";
import type { RolloutConfig } from "./config.ts";

export interface RolloutView {
  service: SwarmService;
  nodes: ReadonlyMap<string, Node>;
  now: number;
}

/** Per-pass memo of `isTaskDirty` and the service's canonical specs (one pass = one view). */
const memo = new WeakMap<RolloutView, { template: string; endpoint: string; dirty: Map<string, boolean> }>();

function memoOf(view: RolloutView) {
  let m = memo.get(view);
  if (!m) {
    const spec = view.service.Spec;
    m = {
      template: canonicalJson(spec?.TaskTemplate ?? {}),
      endpoint: canonicalJson(spec?.EndpointSpec ?? {}),
      dirty: new Map(),
    };
    memo.set(view, m);
  }
  return m;
}

/**
 * `isTaskDirty`, with a fast path for the common case after a scale (the spec version moved on but
 * the task spec is unchanged): equal canonical specs are clean without the full comparison.
 */
export function taskIsDirty(view: RolloutView, t: SwarmTask): boolean {
  const sv = view.service.SpecVersion?.Index;
  if (sv !== undefined && sv === t.SpecVersion?.Index) return false;
  const m = memoOf(view);
  const known = m.dirty.get(t.ID);
  if (known !== undefined) return known;
  const sameSpec =
    canonicalJson(t.Spec ?? {}) === m.template &&
    (t.Endpoint === undefined || canonicalJson(t.Endpoint.Spec ?? {}) === m.endpoint);
  const dirty = !sameSpec && isTaskDirty(view.service, t, t.NodeID ? view.nodes.get(t.NodeID) : undefined);
  m.dirty.set(t.ID, dirty);
  return dirty;
}

/** The slot holds more than one runnable task, or its task does not match the spec. */
export function slotIsDirty(view: RolloutView, slot: readonly SwarmTask[]): boolean {
  return slot.length > 1 || (slot.length === 1 && taskIsDirty(view, slot[0] as SwarmTask));
}

/** Made by the updater for the current spec since the rollout started. */
export function isRolloutTask(view: RolloutView, t: SwarmTask): boolean {
  if (!t.UpdateMonitor) return false;
  const startedAt = parseTime(view.service.UpdateStatus?.StartedAt ?? undefined);
  const createdAt = parseTime(t.CreatedAt);
  if (startedAt === undefined || createdAt === undefined || createdAt < startedAt) return false;
  return !taskIsDirty(view, t);
}

/** When the task reached RUNNING or beyond (the updater's "started" moment), if it has. */
export function reachedAt(t: SwarmTask): number | undefined {
  const recorded = parseTime(t.UpdateMonitor?.RunningAt);
  if (recorded !== undefined) return recorded;
  return stateOf(t) >= TaskStates.running ? parseTime(t.Status?.Timestamp) : undefined;
}

/** Still occupying a worker at `now`: waiting to run, or inside the delay after it did. */
export function isBusy(t: SwarmTask, config: RolloutConfig, now: number): boolean {
  const at = reachedAt(t);
  if (at === undefined) return desiredOf(t) <= TaskStates.running;
  return now < at + config.delayMs;
}

const FAILED_STATES = new Set(["complete", "failed", "rejected"]);

/** Failed or ended early: before RUNNING, or within the monitor window after it. */
export function isRolloutFailure(t: SwarmTask, config: RolloutConfig): boolean {
  if (!FAILED_STATES.has(t.Status?.State ?? "new")) return false;
  const running = parseTime(t.UpdateMonitor?.RunningAt);
  if (running === undefined) return true;
  const stopped = parseTime(t.Status?.Timestamp) ?? running;
  return stopped - running <= config.monitorMs;
}

/** The failure that decides the message: the most recent one (it tipped the ratio). */
export function latestFailure(failures: readonly SwarmTask[]): SwarmTask | undefined {
  const at = (t: SwarmTask) => parseTime(t.Status?.Timestamp) ?? 0;
  return [...failures].sort((a, b) => at(a) - at(b) || (a.ID < b.ID ? -1 : 1)).at(-1);
}
