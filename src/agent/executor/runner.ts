/**
 * TaskRunner: drives one task to its desired state. A loop of observe (inspect) → `nextStep` (pure)
 * → one engine action or one status report. It sleeps while awaiting dockerd and wakes on the
 * container's events (start, die, health_status…), on a desired-state update, or on a slow resync
 * timer that covers a broken event stream.
 */
import { type SwarmTask, type TaskStateName, TaskStates } from "../../api/index.ts";
import { type Clock, ErrorCode, type Logger, ShoalError, type Timer, timestamp } from "../../base/index.ts";
import type { TaskPayloads } from "../secrets/payloads.ts";
import { type ContainerCreateRequest, containerCreateRequest, taskName } from "./container-config.ts";
import { type ActionKind, type ActionOutcome, nextStep, type StepInput } from "./controller.ts";
import { drainPeriodMs } from "./drain.ts";
import { isImageId } from "./image.ts";
import { materialize, plannedFiles } from "./payload-files.ts";
import { containerSpecOf, stopTimeoutSeconds, type TaskEnvironment } from "./spec.ts";
import type { TaskFilesystem } from "./task-files.ts";
import type { ContainerEngine, ContainerEvent, ObservedContainer, TaskStatus } from "./types.ts";

export type StatusCallback = (taskId: string, status: TaskStatus) => void;

export interface TaskRunnerOptions {
  task: SwarmTask;
  env: TaskEnvironment;
  engine: ContainerEngine;
  clock: Clock;
  logger: Logger;
  onStatus: StatusCallback;
  /** Pause after a temporary failure (swarmkit: 1 s). */
  retryDelayMs?: number;
  /** While awaiting dockerd, re-inspect this often even without events. */
  resyncMs?: number;
  /** The in-memory filesystem secret and config files are written to (required when the task has any). */
  files?: TaskFilesystem;
  /** The secrets and configs this task may read (restricted to its references). */
  payloads?: TaskPayloads;
}

const isTemporary = (err: unknown): boolean => ShoalError.is(err, ErrorCode.Unavailable);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class TaskRunner {
  readonly taskId: string;
  readonly containerName: string;
  private task: SwarmTask;
  private current: TaskStatus;
  private readonly request: ContainerCreateRequest | undefined;
  private readonly resolveError: string | undefined;
  private unhealthy = false;
  private payloadFilesReleased = false;
  private dirty = true;
  private wakeUp: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private actionAbort: AbortController | undefined;
  /** When the drain ends (clock ms); set once, when a RUNNING task is first told to stop. */
  private drainUntil: number | undefined;

  constructor(private readonly opts: TaskRunnerOptions) {
    this.task = opts.task;
    this.taskId = opts.task.ID;
    this.containerName = taskName(opts.task, opts.env.service.Name);
    this.current = { ...opts.task.Status, State: opts.task.Status?.State ?? "assigned" } as TaskStatus;
    try {
      this.request = containerCreateRequest(opts.task, opts.env);
    } catch (err) {
      this.resolveError = messageOf(err);
    }
  }

  /** The status last reported. */
  get status(): TaskStatus {
    return this.current;
  }

  get desired(): TaskStateName {
    return this.task.DesiredState ?? "running";
  }

  /** Starts the loop (idempotent); the promise settles when the runner stops. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  /** A newer copy of the task: only a higher desired state is taken (the status stays ours). */
  update(task: SwarmTask): void {
    const desired = task.DesiredState ?? "running";
    if (TaskStates[desired] < TaskStates[this.desired]) {
      this.opts.logger.warn(
        { "task.id": this.taskId, desired },
        "ignoring task update lowering the desired state",
      );
      return;
    }
    this.task = { ...task, Status: this.current };
    // like swarmkit's cancelPull: a pull in flight is abandoned once the task is to be stopped
    if (TaskStates[desired] >= TaskStates.shutdown) this.actionAbort?.abort();
    this.wake();
  }

  /**
   * Starts the drain when the task is to stop while RUNNING, the only state in which it is a
   * backend (dispatcher/peers.ts), so the task left the backend sets with this very desired state.
   * Returns the milliseconds still to wait.
   */
  private drainLeft(): number {
    const now = this.opts.clock.now();
    if (this.drainUntil === undefined) {
      const stopping = TaskStates[this.desired] >= TaskStates.shutdown;
      if (!stopping || this.current.State !== "running") return 0;
      const ms = drainPeriodMs(this.task);
      this.drainUntil = now + ms;
      if (ms > 0) this.opts.logger.debug({ "task.id": this.taskId, ms }, "draining before the stop signal");
    }
    return Math.max(0, this.drainUntil - now);
  }

  /** An event for this task's container. */
  notify(event: ContainerEvent): void {
    if (event.action === "health_status" && event.health === "unhealthy") this.unhealthy = true;
    this.wake();
  }

  /** Stops the loop; the container is left as it is (adoption picks it up again). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.actionAbort?.abort();
    this.wake();
    await this.loop;
  }

  /**
   * Stops the loop, then stops the container with its grace period and removes it. A task that was
   * still a backend drains first (moby's Remove goes through Shutdown, which does the same).
   */
  async remove(): Promise<void> {
    if (TaskStates[this.desired] < TaskStates.shutdown) this.task = { ...this.task, DesiredState: "remove" };
    this.drainLeft();
    await this.stop();
    const left = this.drainLeft();
    if (left > 0) await this.opts.clock.sleep(left);
    const spec = containerSpecOf(this.task);
    await this.opts.engine.stopContainer(this.containerName, stopTimeoutSeconds(spec));
    await this.opts.engine.removeContainer(this.containerName);
    if (this.hasPayloadFiles()) await this.opts.files?.remove(this.taskId);
  }

  /**
   * A task past running never runs again: its secrets leave the host now, not when its container
   * is removed (moby unmounts them when the container stops, in `Cleanup`).
   */
  private async releasePayloadFiles(): Promise<void> {
    if (this.payloadFilesReleased || !this.hasPayloadFiles() || !this.opts.files) return;
    this.payloadFilesReleased = true;
    try {
      await this.opts.files.remove(this.taskId);
    } catch (err) {
      this.opts.logger.warn({ "task.id": this.taskId, err: messageOf(err) }, "removing secret files failed");
      this.payloadFilesReleased = false;
    }
  }

  private hasPayloadFiles(): boolean {
    const spec = containerSpecOf(this.task);
    return (spec?.Secrets?.length ?? 0) + (spec?.Configs?.length ?? 0) > 0;
  }

  /** Writes the task's secret and config files into its in-memory directory (moby's setupSecretDir). */
  private async writePayloadFiles(): Promise<void> {
    const spec = containerSpecOf(this.task);
    const planned = spec ? plannedFiles(spec) : [];
    if (planned.length === 0 || !this.opts.files) return;
    await this.opts.files.write(this.taskId, materialize(planned, this.opts.payloads));
  }

  /** Kills the container at once (swarmkit `Terminate`). */
  async terminate(): Promise<void> {
    await this.opts.engine.killContainer(this.containerName, "SIGKILL");
  }

  private wake(): void {
    this.dirty = true;
    this.wakeUp?.();
  }

  /** Resolves on the next wake() or after `ms`; a wake that came first is not lost. */
  private sleep(ms: number): Promise<void> {
    if (this.dirty || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      this.wakeUp = () => {
        timer?.cancel();
        this.wakeUp = undefined;
        resolve();
      };
      if (Number.isFinite(ms)) timer = this.opts.clock.setTimer(ms, () => this.wakeUp?.());
    });
  }

  /** Records and reports a status; false when it changes nothing the manager would see. */
  private report(status: TaskStatus): boolean {
    const prev = this.current;
    const changed = prev.State !== status.State || prev.Message !== status.Message || prev.Err !== status.Err;
    this.current = changed ? { ...status, Timestamp: timestamp(this.opts.clock) } : status;
    this.task = { ...this.task, Status: this.current };
    if (!changed) return false;
    this.opts.logger.debug(
      { "task.id": this.taskId, "state.transition": `${prev.State}->${status.State}`, err: status.Err },
      "task state changed",
    );
    this.opts.onStatus(this.taskId, this.current);
    return true;
  }

  private async observe(): Promise<ObservedContainer | null | undefined> {
    try {
      const c = await this.opts.engine.inspectContainer(this.containerName);
      if (c?.health === "unhealthy") this.unhealthy = true;
      return c;
    } catch (err) {
      this.opts.logger.warn(
        { "task.id": this.taskId, err: messageOf(err) },
        "inspecting the container failed",
      );
      return undefined;
    }
  }

  private async run(): Promise<void> {
    let outcome: ActionOutcome | undefined;
    const retryMs = this.opts.retryDelayMs ?? 1000;
    let container: ObservedContainer | null | undefined;
    // true while `container` is still current: only our own status reports happened since the
    // inspect (no action, no event, no task update), so the next step needs no new round trip
    let current = false;
    while (!this.stopped) {
      this.dirty = false;
      if (!current) container = await this.observe();
      current = false;
      if (container === undefined) {
        await this.sleep(retryMs);
        continue;
      }
      const input: StepInput = {
        status: this.current,
        desired: this.desired,
        container,
        containerName: this.containerName,
        outcome,
        resolveError: this.resolveError,
        unhealthy: this.unhealthy,
        drainMs: this.drainLeft(),
      };
      outcome = undefined;
      const step = nextStep(input);
      if (this.stopped) break;
      switch (step.kind) {
        case "report":
          // a report that changes nothing would only repeat itself: wait for dockerd instead
          if (this.report(step.status)) {
            current = !this.dirty;
            this.dirty = true;
          } else await this.sleep(this.opts.resyncMs ?? 30_000);
          if (TaskStates[step.status.State] > TaskStates.running) await this.releasePayloadFiles();
          break;
        case "retry":
          this.report(step.status);
          await this.sleep(retryMs);
          this.dirty = true;
          break;
        case "prepare":
        case "start":
        case "shutdown":
          outcome = await this.act(step.kind);
          this.dirty = true;
          break;
        case "await":
          await this.sleep(this.opts.resyncMs ?? 30_000);
          break;
        case "drain":
          // woken early by the container's events (it may exit meanwhile); the next step re-checks
          await this.sleep(step.ms);
          break;
        case "idle":
          await this.sleep(Number.POSITIVE_INFINITY);
          break;
      }
    }
  }

  private async act(action: ActionKind): Promise<ActionOutcome> {
    this.actionAbort = new AbortController();
    try {
      if (action === "prepare") await this.prepare(this.actionAbort.signal);
      else if (action === "start") await this.opts.engine.startContainer(this.containerName);
      else
        await this.opts.engine.stopContainer(
          this.containerName,
          stopTimeoutSeconds(containerSpecOf(this.task)),
        );
      return { action };
    } catch (err) {
      this.opts.logger.debug({ "task.id": this.taskId, action, err: messageOf(err) }, "task action failed");
      return { action, error: { message: this.describeError(action, err), temporary: isTemporary(err) } };
    } finally {
      this.actionAbort = undefined;
    }
  }

  private describeError(action: ActionKind, err: unknown): string {
    const msg = messageOf(err);
    return action === "start" ? `starting container failed: ${msg}` : msg;
  }

  /** Pull when the image is absent (moby keeps going on a failed pull if the image is there), then create. */
  private async prepare(signal: AbortSignal): Promise<void> {
    const req = this.request!;
    const image = req.body.Image ?? "";
    const { engine } = this.opts;
    if (!isImageId(image) && !(await engine.imageExists(image, signal))) {
      try {
        const registryAuth =
          this.opts.env.registryAuth ?? containerSpecOf(this.task)?.PullOptions?.RegistryAuth;
        await engine.pullImage(image, { registryAuth, signal });
      } catch (err) {
        if (isTemporary(err)) throw err;
        throw new ShoalError(ErrorCode.NotFound, `No such image: ${image}: ${messageOf(err)}`, {
          cause: err,
        });
      }
    }
    await this.writePayloadFiles();
    try {
      await engine.createContainer(req, signal);
    } catch (err) {
      // a container of that name already exists: it is ours (names carry the task ID), so prepared
      if (!ShoalError.is(err, ErrorCode.Conflict) || !(await engine.inspectContainer(req.name))) throw err;
    }
  }
}
