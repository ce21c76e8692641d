/**
 * Executor: the set of TaskRunners of one node, keyed by task ID. `assign` converges to the full
 * set of tasks the dispatcher gave this node; `adopt` (at startup) finds the swarm containers a
 * previous agent left running so that they are attached to, not restarted. One dockerd event
 * stream feeds every runner.
 */
import type { NodeDescription, SwarmTask } from "../../api/index.ts";
import { type Clock, type Logger, notFound, type Timer } from "../../base/index.ts";
import type { TaskPayloadSource } from "../secrets/payloads.ts";
import type { StatusCallback } from "./runner.ts";
import { TaskRunner } from "./runner.ts";
import type { TaskEnvironment } from "./spec.ts";
import type { TaskFilesystem } from "./task-files.ts";
import type {
  ContainerEngine,
  ContainerEvent,
  EventSubscription,
  LogLine,
  LogsOptions,
  TaskContainerSummary,
} from "./types.ts";

const WAKING_EVENTS = new Set<ContainerEvent["action"]>(["start", "die", "oom", "health_status", "destroy"]);

export interface ExecutorOptions {
  engine: ContainerEngine;
  /** This node's ID: containers are labelled with it and adoption only looks at its own. */
  nodeId: string;
  clock: Clock;
  logger: Logger;
  onStatus: StatusCallback;
  /** Extra per-task inputs the executor cannot know itself: networks, registry credentials. */
  environment?: (task: SwarmTask) => Pick<TaskEnvironment, "networks" | "registryAuth">;
  retryDelayMs?: number;
  resyncMs?: number;
  /** Delay before re-subscribing to dockerd's events after the stream broke. */
  eventRetryMs?: number;
  /** Where tasks' secret and config files live (agent/secrets); without it such tasks are rejected. */
  files?: TaskFilesystem;
}

export class Executor {
  private readonly runners = new Map<string, TaskRunner>();
  private adopted = new Map<string, TaskContainerSummary>();
  private readonly removals = new Set<Promise<void>>();
  private node: NodeDescription | undefined;
  private events: EventSubscription | undefined;
  private resubscribe: Timer | undefined;
  private stopped = false;
  private payloads: TaskPayloadSource | undefined;

  constructor(private readonly opts: ExecutorOptions) {}

  /** The node as dockerd describes it (hostname, platform, resources, engine); cached for templates. */
  async describeNode(): Promise<NodeDescription> {
    this.node = await this.opts.engine.describe();
    return this.node;
  }

  /**
   * Finds this node's swarm containers. They are kept until the next `assign`, which attaches a
   * runner to those whose task is still assigned and removes the others.
   */
  async adopt(): Promise<TaskContainerSummary[]> {
    const found = await this.opts.engine.listTaskContainers({ nodeId: this.opts.nodeId });
    for (const c of found) this.adopted.set(c.taskId, c);
    this.opts.logger.info({ "node.id": this.opts.nodeId, containers: found.length }, "found task containers");
    return found;
  }

  /**
   * Converges to exactly this set of tasks. `payloads` are the node's secrets and configs; each
   * runner only ever sees the ones its task references.
   */
  async assign(tasks: SwarmTask[], payloads?: TaskPayloadSource): Promise<void> {
    if (this.stopped) return;
    if (payloads) this.payloads = payloads;
    if (!this.node) await this.describeNode();
    this.subscribe();
    const wanted = new Map(tasks.map((t) => [t.ID, t]));
    for (const task of tasks) {
      const runner = this.runners.get(task.ID);
      if (runner) runner.update(task);
      else this.startRunner(task);
    }
    for (const [id, runner] of this.runners) {
      if (wanted.has(id)) continue;
      this.runners.delete(id);
      this.track(runner.remove(), id);
    }
    for (const [id, c] of this.adopted) {
      if (!wanted.has(id)) this.track(this.removeOrphan(c), id);
    }
    this.adopted = new Map();
  }

  /** The runner of a task, if it is assigned here. */
  runner(taskId: string): TaskRunner | undefined {
    return this.runners.get(taskId);
  }

  /** IDs of the tasks this executor runs. */
  taskIds(): string[] {
    return [...this.runners.keys()];
  }

  /** A task container's log stream (for service logs). */
  logs(taskId: string, opts: LogsOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    const runner = this.runners.get(taskId);
    if (!runner) throw notFound(`task ${taskId} is not assigned to this node`);
    return this.opts.engine.logs(runner.containerName, opts, signal);
  }

  /** Stops every runner (containers keep running, for adoption) and waits for removals in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resubscribe?.cancel();
    this.events?.close();
    this.events = undefined;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    await Promise.all([...this.removals]);
  }

  private startRunner(task: SwarmTask): void {
    const node = this.node ?? {};
    const env: TaskEnvironment = {
      service: {
        ID: task.ServiceID ?? "",
        // a task without service annotations is named after its service ID rather than nothing
        Name: task.ServiceAnnotations?.Name || task.ServiceID || "",
        Labels: task.ServiceAnnotations?.Labels,
        Ports: task.Endpoint?.Ports,
      },
      node: { ID: this.opts.nodeId, Hostname: node.Hostname ?? "", Platform: node.Platform },
      ...this.opts.environment?.(task),
    };
    if (this.opts.files) env.payloadDir = this.opts.files.dirOf(task.ID);
    const runner = new TaskRunner({
      task,
      env,
      engine: this.opts.engine,
      clock: this.opts.clock,
      logger: this.opts.logger,
      onStatus: this.opts.onStatus,
      retryDelayMs: this.opts.retryDelayMs,
      resyncMs: this.opts.resyncMs,
      files: this.opts.files,
      payloads: this.payloads?.forTask(task),
    });
    this.runners.set(task.ID, runner);
    // the runner reports its own failures as task states; a rejection here is a bug, so log it loudly
    void runner
      .start()
      .catch((err: unknown) => this.opts.logger.error({ "task.id": task.ID, err }, "task runner crashed"));
  }

  private async removeOrphan(c: TaskContainerSummary): Promise<void> {
    this.opts.logger.info(
      { "task.id": c.taskId, container: c.id },
      "removing the container of a task no longer assigned",
    );
    await this.opts.engine.removeContainer(c.id);
    await this.opts.files?.remove(c.taskId);
  }

  private track(p: Promise<void>, taskId: string): void {
    const tracked = p
      .catch((err: unknown) =>
        this.opts.logger.warn({ "task.id": taskId, err }, "removing a task's container failed"),
      )
      .finally(() => this.removals.delete(tracked));
    this.removals.add(tracked);
  }

  private subscribe(resubscribing = false): void {
    if (this.events || this.stopped) return;
    this.events = this.opts.engine.subscribeEvents(
      (e) => this.dispatch(e),
      (err) => {
        this.opts.logger.warn({ err }, "dockerd event stream broke; re-subscribing");
        this.events?.close();
        this.events = undefined;
        this.wakeAll();
        this.resubscribe = this.opts.clock.setTimer(this.opts.eventRetryMs ?? 1000, () =>
          this.subscribe(true),
        );
      },
    );
    // events were lost while the stream was down: every runner looks at its container again
    if (resubscribing) this.wakeAll();
  }

  private wakeAll(): void {
    for (const r of this.runners.values()) {
      r.notify({ action: "other", containerId: "", name: "", taskId: r.taskId });
    }
  }

  /** Only events that can change a task's state wake its runner (healthcheck execs do not). */
  private dispatch(e: ContainerEvent): void {
    if (!WAKING_EVENTS.has(e.action)) return;
    this.runners.get(e.taskId)?.notify(e);
  }
}
