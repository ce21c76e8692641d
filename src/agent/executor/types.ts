/**
 * The executor's vocabulary: the task status it reports, what it observes of a container, and the
 * narrow engine port that `docker.ts` (real dockerd) and `fake.ts` (simulation) implement.
 */
import type { NodeDescription, Task, TaskStateName } from "../../api/index.ts";
import type { ContainerCreateRequest } from "./container-config.ts";

/** A task's status as the agent reports it (the Engine API's `Task.Status`). */
export type TaskStatus = NonNullable<Task["Status"]> & { State: TaskStateName };

export type ContainerRunState =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";
export type HealthState = "none" | "starting" | "healthy" | "unhealthy";

/** What the executor needs to know about a task's container (from inspect). */
export interface ObservedContainer {
  id: string;
  name: string;
  state: ContainerRunState;
  exitCode: number;
  pid: number;
  /** dockerd's `State.Error` (why it could not run), "" if none. */
  error: string;
  oomKilled: boolean;
  /** "none" when the container has no healthcheck (or `NONE`). */
  health: HealthState;
  labels: Record<string, string>;
}

/** A swarm-labelled container found by listing (adoption). */
export interface TaskContainerSummary {
  id: string;
  name: string;
  taskId: string;
  serviceId: string;
  nodeId: string;
  state: string;
  labels: Record<string, string>;
}

/** A container event for a swarm task, already filtered and narrowed. */
export interface ContainerEvent {
  action: "create" | "start" | "die" | "oom" | "kill" | "stop" | "destroy" | "health_status" | "other";
  containerId: string;
  name: string;
  taskId: string;
  /** For `health_status`: healthy / unhealthy / starting. */
  health?: HealthState;
  /** For `die`. */
  exitCode?: number;
  timeNano?: number;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Unix seconds. */
  since?: number;
  /** "all" or a number of lines. */
  tail?: number | "all";
  timestamps?: boolean;
  details?: boolean;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  /** The raw line including its trailing newline (timestamp/details prefix when asked for). */
  line: Buffer;
}

export interface EventSubscription {
  close(): void;
}

/**
 * The engine port the executor consumes (interfaces belong to the consumer). Errors are ShoalErrors:
 * NotFound (no such container/image), Conflict (name in use), Unavailable (daemon unreachable:
 * retry), InvalidArgument (bad config), Internal (anything else).
 */
export interface ContainerEngine {
  imageExists(ref: string, signal?: AbortSignal): Promise<boolean>;
  /** Pulls the image; `registryAuth` is the base64url X-Registry-Auth from the service. */
  pullImage(ref: string, opts?: { registryAuth?: string; signal?: AbortSignal }): Promise<void>;
  createContainer(req: ContainerCreateRequest, signal?: AbortSignal): Promise<string>;
  startContainer(nameOrId: string): Promise<void>;
  /** null when there is no such container. */
  inspectContainer(nameOrId: string): Promise<ObservedContainer | null>;
  /** Stops with the container's stop signal, then SIGKILL after `timeoutSeconds` (dockerd's default if unset). */
  stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void>;
  killContainer(nameOrId: string, signal?: string): Promise<void>;
  /** Force-removes the container and its anonymous volumes; no error if it is already gone. */
  removeContainer(nameOrId: string): Promise<void>;
  /** Containers carrying Swarm's task label, optionally only those of one node. */
  listTaskContainers(filter?: { nodeId?: string }): Promise<TaskContainerSummary[]>;
  /** Streams events of swarm-labelled containers until closed; `onError` when the stream breaks. */
  subscribeEvents(onEvent: (e: ContainerEvent) => void, onError: (err: unknown) => void): EventSubscription;
  logs(nameOrId: string, opts: LogsOptions, signal?: AbortSignal): AsyncIterable<LogLine>;
  describe(): Promise<NodeDescription>;
}
