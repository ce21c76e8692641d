/**
 * `ServiceStatus` for `GET /services?status=true`, as SwarmKit's ListServiceStatuses computes it:
 * running tasks are counted by observed state; desired tasks are the replica count (replicated),
 * MaxConcurrent (replicated job), or for global modes the tasks meant to run (plus, for global
 * jobs, those meant to complete that have not yet); jobs count only the current iteration.
 */
import type { Service, ServiceSpec, SwarmService } from "../../api/index.ts";
import type { ReadTx } from "../../store/types.ts";

export interface ServiceStatus {
  RunningTasks: number;
  DesiredTasks: number;
  CompletedTasks: number;
}

type ServiceMode = "replicated" | "global" | "replicated-job" | "global-job";

export function modeOf(spec: ServiceSpec | undefined): ServiceMode {
  const m = spec?.Mode;
  if (m?.Global) return "global";
  if (m?.ReplicatedJob) return "replicated-job";
  if (m?.GlobalJob) return "global-job";
  return "replicated";
}

export function serviceStatus(tx: ReadTx, service: Service | SwarmService): ServiceStatus {
  const status: ServiceStatus = { RunningTasks: 0, DesiredTasks: 0, CompletedTasks: 0 };
  const mode = modeOf(service.Spec);
  const global = mode === "global" || mode === "global-job";
  if (mode === "replicated") status.DesiredTasks = service.Spec?.Mode?.Replicated?.Replicas ?? 0;
  if (mode === "replicated-job") status.DesiredTasks = service.Spec?.Mode?.ReplicatedJob?.MaxConcurrent ?? 0;
  const iteration = service.JobStatus ? (service.JobStatus.JobIteration?.Index ?? 0) : undefined;
  for (const task of tx.lookup("tasks", "service", service.ID)) {
    const state = task.Status?.State;
    if (iteration !== undefined) {
      if (task.JobIteration === undefined || (task.JobIteration.Index ?? 0) !== iteration) continue;
      if (state === "complete") status.CompletedTasks++;
    }
    if (state === "running") status.RunningTasks++;
    if (global && task.DesiredState === "running") status.DesiredTasks++;
    if (global && state !== "complete" && task.DesiredState === "complete") status.DesiredTasks++;
  }
  return status;
}
