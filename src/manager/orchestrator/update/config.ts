/**
 * The rollout parameters the updater works with (SwarmKit `updater.go Run`): the service's
 * `UpdateConfig`, or its `RollbackConfig` while a rollback runs, with SwarmKit's defaults when the
 * config is absent, and Swarm's exact `UpdateStatus` texts.
 */
import type { SwarmService, UpdateState } from "../../../api/index.ts";
import { nanosToMs } from "../../../base/index.ts";

export type FailureAction = "pause" | "continue" | "rollback";
export type UpdateOrder = "stop-first" | "start-first";

export interface RolloutConfig {
  /** Slots replaced at once; 0 = all dirty slots at once. */
  parallelism: number;
  delayMs: number;
  monitorMs: number;
  failureAction: FailureAction;
  maxFailureRatio: number;
  order: UpdateOrder;
}

/** SwarmKit's `defaults.Service.Update` (and `.Rollback`, the same values). */
export const DEFAULT_MONITOR_MS = 5_000;
export const DEFAULT_ROLLOUT: RolloutConfig = {
  parallelism: 1,
  delayMs: 0,
  monitorMs: DEFAULT_MONITOR_MS,
  failureAction: "pause",
  maxFailureRatio: 0,
  order: "stop-first",
};

/** Swarm's `UpdateStatus` messages (updater.go, controlapi/service.go). */
export const MSG = {
  inProgress: "update in progress",
  completed: "update completed",
  rollbackCompleted: "rollback completed",
  manualRollback: "manually requested rollback",
  paused: (task: string) => `update paused due to failure or early termination of task ${task}`,
  rollbackPaused: (task: string) => `rollback paused due to failure or early termination of task ${task}`,
  rolledBack: (task: string) => `update rolled back due to failure or early termination of task ${task}`,
} as const;

export const isRollingBack = (service: SwarmService): boolean =>
  service.UpdateStatus?.State === "rollback_started";

/** States in which the updater does nothing until a new UpdateService clears the status. */
export const isPaused = (state: UpdateState | undefined): boolean =>
  state === "paused" || state === "rollback_paused";

/** States of a rollout still under way (the ones that complete, or trip the failure action). */
export const isActive = (state: UpdateState | undefined): boolean =>
  state === "updating" || state === "rollback_started";

/**
 * The config in force. A config that is present is taken as is (absent fields are Go's zero
 * values: parallelism 0 means unlimited); only an absent Monitor falls back to 5 s, as moby stores
 * a zero monitor as unset.
 */
export function rolloutConfig(service: SwarmService): RolloutConfig {
  const c = isRollingBack(service) ? service.Spec?.RollbackConfig : service.Spec?.UpdateConfig;
  if (!c) return DEFAULT_ROLLOUT;
  return {
    parallelism: Math.max(0, c.Parallelism ?? 0),
    delayMs: nanosToMs(Math.max(0, c.Delay ?? 0)),
    monitorMs: c.Monitor ? nanosToMs(c.Monitor) : DEFAULT_MONITOR_MS,
    failureAction: c.FailureAction ?? "pause",
    maxFailureRatio: c.MaxFailureRatio ?? 0,
    order: c.Order ?? "stop-first",
  };
}

/**
 * How long the updater keeps watching after the last slot's worker is done before it declares the
 * rollout complete: the monitor period, or delay + 1 s when the delay is at least as long.
 */
export const finalMonitorMs = (c: RolloutConfig): number =>
  c.delayMs >= c.monitorMs ? c.delayMs + 1_000 : c.monitorMs;
