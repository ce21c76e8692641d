/**
 * Fields SwarmKit keeps on tasks and services that the Engine API's generated types omit. The
 * orchestrators and the scheduler read and write them; the Engine API never shows them (they are
 * ignored by the docker CLI when present).
 */
import type { EndpointPortConfig, EndpointSpec, ObjectVersion, ServiceSpec } from "./generated/engine.ts";
import type { Service, Task } from "./shoal.ts";

/** SwarmKit's `Task.Endpoint`: a copy of the service endpoint (spec and allocated ports). */
export interface TaskEndpoint {
  Spec?: EndpointSpec;
  Ports?: EndpointPortConfig[];
}

/** SwarmKit's `Task.service_annotations`: the service's name and labels when the task was made. */
export interface ServiceAnnotations {
  Name?: string;
  Labels?: Record<string, string>;
}

/** Task status fields Swarm stamps on the manager (`applied_by`, `applied_at`). */
export interface TaskStatusExtensions {
  AppliedBy?: string;
  AppliedAt?: string;
}

/**
 * shoal extension: a replacement task held at desired READY (SwarmKit's `DelayStart`). It is started
 * (desired RUNNING, or COMPLETE for jobs) once `NotBefore` has passed and the task it replaces,
 * `WaitForTask`, has stopped, its node is down or gone, or `Deadline` has passed. Kept in the store
 * (SwarmKit keeps it in the leader's memory) so that a new leader resumes it exactly.
 */
export interface DelayedStart {
  NotBefore?: string;
  WaitForTask?: string;
  Deadline?: string;
}

/**
 * shoal extension: the task was created by a rolling update (or rollback). SwarmKit's updater keeps
 * this in memory (`updatedTasks`); shoal keeps it on the task so that a new leader resumes the
 * update's failure monitoring exactly. `RunningAt` is when the updater first saw the task RUNNING:
 * the start of its monitor window.
 */
export interface UpdateMonitor {
  RunningAt?: string;
}

/** A task as the orchestrators and the scheduler see it; every `Task` is one. */
export type SwarmTask = Task & {
  SpecVersion?: ObjectVersion;
  ServiceAnnotations?: ServiceAnnotations;
  Endpoint?: TaskEndpoint;
  Status?: NonNullable<Task["Status"]> & TaskStatusExtensions;
  DelayedStart?: DelayedStart;
  UpdateMonitor?: UpdateMonitor;
};

/**
 * A service with SwarmKit's `spec_version` (the service version at the last spec change, so that
 * tasks of one spec share it) and its previous spec (what a rollback returns to); every `Service`
 * is one.
 */
export type SwarmService = Service & {
  SpecVersion?: ObjectVersion;
  PreviousSpec?: ServiceSpec;
  PreviousSpecVersion?: ObjectVersion;
};
