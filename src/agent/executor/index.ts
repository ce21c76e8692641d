/**
 * agent/executor: runs tasks as Docker containers. The only part of shoal that knows dockerd
 * exists (through `docker.ts`). Pure cores: the task → container translation and the task state
 * machine's step function; around them, one TaskRunner per task and the Executor that keeps the
 * node's set of runners in line with its assignments.
 */

/** Translates a task into dockerd's create request (name, labels, Config, HostConfig). */
export {
  type ContainerCreateBody,
  type ContainerCreateRequest,
  containerCreateRequest,
  containerLabels,
  expandSpec,
  LABEL_NODE_ID,
  LABEL_SERVICE_ID,
  LABEL_SERVICE_NAME,
  LABEL_TASK,
  LABEL_TASK_ID,
  LABEL_TASK_NAME,
  SYSTEM_LABEL_PREFIX,
  taskName,
  templateContext,
} from "./container-config.ts";
/** The task state machine, one step per call (swarmkit `exec.Do`). */
export {
  type ActionKind,
  type ActionOutcome,
  classifyFailure,
  exitMessage,
  Messages,
  nextStep,
  type Step,
  type StepInput,
} from "./controller.ts";
/** NodeDescription from dockerd's `/info`. */
export { describeFromInfo } from "./describe.ts";
/** The ContainerEngine on a real dockerd. */
export { DockerEngine, type DockerEngineOptions, engineError } from "./docker.ts";
/** The node's set of task runners. */
export { Executor, type ExecutorOptions } from "./executor.ts";
/** Pretend containers under a virtual clock, for simulations. */
export {
  FAKE_ENV,
  type FakeBehaviour,
  FakeEngine,
  type FakeEngineOptions,
  FakeExecutor,
  settle,
} from "./fake.ts";
/** Image reference normalisation as moby's executor does it. */
export { normalizeImage } from "./image.ts";
/** Drives one task to its desired state. */
export { type StatusCallback, TaskRunner, type TaskRunnerOptions } from "./runner.ts";
export {
  type ContainerSpec,
  containerSpecOf,
  healthcheckOf,
  type NetworkEndpoint,
  stopTimeoutSeconds,
  type TaskEnvironment,
} from "./spec.ts";
/** Go-template expansion for hostname, env and mounts. */
export { expandTemplate, type TemplateContext } from "./template.ts";
export type {
  ContainerEngine,
  ContainerEvent,
  ContainerRunState,
  EventSubscription,
  HealthState,
  LogLine,
  LogsOptions,
  ObservedContainer,
  TaskContainerSummary,
  TaskStatus,
} from "./types.ts";
