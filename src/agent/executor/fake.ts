/**
 * FakeEngine: an in-memory dockerd for simulations and tests, driven by a (virtual) clock. Pretend
 * containers run for N ms and exit with a code, fail to create or start, hang on stop until the
 * grace period kills them, and turn healthy or unhealthy on schedule. FakeExecutor is the real
 * Executor on a FakeEngine.
 */
import type { NodeDescription } from "../../api/index.ts";
import { type Clock, ErrorCode, ShoalError, type Timer } from "../../base/index.ts";
import {
  type ContainerCreateRequest,
  LABEL_NODE_ID,
  LABEL_SERVICE_ID,
  LABEL_TASK_ID,
} from "./container-config.ts";
import { Executor, type ExecutorOptions } from "./executor.ts";
import type {
  ContainerEngine,
  ContainerEvent,
  EventSubscription,
  HealthState,
  LogLine,
  ObservedContainer,
  TaskContainerSummary,
} from "./types.ts";

/** How one pretend container behaves. All times are milliseconds on the engine's clock. */
export interface FakeBehaviour {
  /** Exits this long after start; unset = runs until stopped. */
  runMs?: number;
  /** Exit code when it exits on its own (default 0). */
  exitCode?: number;
  failCreate?: string;
  failStart?: string;
  /** Ignores the stop signal: only the SIGKILL after the grace period ends it (exit 137). */
  hangOnStop?: boolean;
  /** Exit code after a graceful stop (default 0). */
  stopExitCode?: number;
  /** With a healthcheck: healthy this long after start (default 0). */
  healthyAfterMs?: number;
  /** With a healthcheck: unhealthy this long after start. */
  unhealthyAfterMs?: number;
  /** Lines the container prints to stdout. */
  logs?: string[];
}

/** Containers may pick their behaviour with `SHOAL_FAKE=<json FakeBehaviour>` in their env. */
export const FAKE_ENV = "SHOAL_FAKE";

export interface FakeEngineOptions {
  clock: Clock;
  /** Images present at start; default: every image is present. */
  images?: string[];
  /** Whether a pull of an absent image succeeds (default: no, "not found"). */
  pullable?: (ref: string) => boolean;
  behaviour?: (req: ContainerCreateRequest) => FakeBehaviour;
  description?: NodeDescription;
}

interface FakeContainer {
  id: string;
  name: string;
  req: ContainerCreateRequest;
  behaviour: FakeBehaviour;
  state: ObservedContainer["state"];
  exitCode: number;
  pid: number;
  health: HealthState;
  timers: Timer[];
  onExit: Array<() => void>;
}

function behaviourFromEnv(req: ContainerCreateRequest): FakeBehaviour {
  const entry = req.body.Env?.find((e) => e.startsWith(`${FAKE_ENV}=`));
  return entry ? (JSON.parse(entry.slice(FAKE_ENV.length + 1)) as FakeBehaviour) : {};
}

const hasHealthcheck = (req: ContainerCreateRequest): boolean => {
  const test = req.body.Healthcheck?.Test;
  return !!test && test.length > 0 && test[0] !== "NONE";
};

export class FakeEngine implements ContainerEngine {
  private readonly containers = new Map<string, FakeContainer>();
  private readonly images: Set<string> | undefined;
  private readonly subscribers = new Set<(e: ContainerEvent) => void>();
  private readonly errorHandlers = new Map<(e: ContainerEvent) => void, (err: unknown) => void>();
  private seq = 0;
  /** While true every call fails as if dockerd were unreachable. */
  down = false;
  /** Every engine call, in order: `create name`, `start name`, `stop name`... */
  readonly calls: string[] = [];
  /** Every pull with the credentials it carried. */
  readonly pulls: Array<{ ref: string; registryAuth?: string }> = [];

  constructor(private readonly opts: FakeEngineOptions) {
    this.images = opts.images ? new Set(opts.images) : undefined;
  }

  async imageExists(ref: string): Promise<boolean> {
    this.check(`imageExists ${ref}`);
    return !this.images || this.images.has(ref);
  }

  async pullImage(ref: string, opts: { registryAuth?: string } = {}): Promise<void> {
    this.check(`pull ${ref}`);
    this.pulls.push({ ref, registryAuth: opts.registryAuth });
    if (!this.opts.pullable?.(ref)) {
      throw new ShoalError(ErrorCode.NotFound, `pull access denied for ${ref}, repository does not exist`);
    }
    this.images?.add(ref);
  }

  async createContainer(req: ContainerCreateRequest): Promise<string> {
    this.check(`create ${req.name}`);
    if (this.find(req.name))
      throw new ShoalError(
        ErrorCode.Conflict,
        `Conflict. The container name "/${req.name}" is already in use`,
      );
    if (this.images && !this.images.has(req.body.Image ?? "")) {
      throw new ShoalError(ErrorCode.NotFound, `No such image: ${req.body.Image}`);
    }
    const behaviour = { ...behaviourFromEnv(req), ...this.opts.behaviour?.(req) };
    if (behaviour.failCreate) throw new ShoalError(ErrorCode.InvalidArgument, behaviour.failCreate);
    const id = (++this.seq).toString(16).padStart(64, "0");
    const c: FakeContainer = {
      id,
      name: req.name,
      req,
      behaviour,
      state: "created",
      exitCode: 0,
      pid: 0,
      health: "none",
      timers: [],
      onExit: [],
    };
    this.containers.set(id, c);
    this.emit(c, "create");
    return id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    this.check(`start ${nameOrId}`);
    const c = this.must(nameOrId);
    if (c.state === "running") return;
    if (c.behaviour.failStart) {
      c.state = "exited";
      c.exitCode = 128;
      throw new ShoalError(ErrorCode.Internal, c.behaviour.failStart);
    }
    c.state = "running";
    c.pid = 1000 + this.seq++;
    this.emit(c, "start");
    const { clock } = this.opts;
    const b = c.behaviour;
    if (hasHealthcheck(c.req)) {
      c.health = "starting";
      c.timers.push(clock.setTimer(b.healthyAfterMs ?? 0, () => this.setHealth(c, "healthy")));
      if (b.unhealthyAfterMs !== undefined)
        c.timers.push(clock.setTimer(b.unhealthyAfterMs, () => this.setHealth(c, "unhealthy")));
    }
    if (b.runMs !== undefined) c.timers.push(clock.setTimer(b.runMs, () => this.exit(c, b.exitCode ?? 0)));
  }

  async inspectContainer(nameOrId: string): Promise<ObservedContainer | null> {
    this.check(`inspect ${nameOrId}`);
    const c = this.find(nameOrId);
    if (!c) return null;
    return {
      id: c.id,
      name: c.name,
      state: c.state,
      exitCode: c.exitCode,
      pid: c.pid,
      error: "",
      oomKilled: false,
      health: c.health,
      labels: { ...c.req.body.Labels },
    };
  }

  async stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void> {
    this.check(`stop ${nameOrId}`);
    const c = this.find(nameOrId);
    if (c?.state !== "running") return;
    this.emit(c, "kill");
    if (!c.behaviour.hangOnStop) return this.exit(c, c.behaviour.stopExitCode ?? 0);
    const graceMs = (timeoutSeconds ?? c.req.body.StopTimeout ?? 10) * 1000;
    await new Promise<void>((resolve) => {
      c.onExit.push(resolve);
      c.timers.push(this.opts.clock.setTimer(graceMs, () => this.exit(c, 137)));
    });
  }

  async killContainer(nameOrId: string): Promise<void> {
    this.check(`kill ${nameOrId}`);
    const c = this.find(nameOrId);
    if (c?.state === "running") this.exit(c, 137);
  }

  async removeContainer(nameOrId: string): Promise<void> {
    this.check(`remove ${nameOrId}`);
    const c = this.find(nameOrId);
    if (!c) return;
    if (c.state === "running") this.exit(c, 137);
    this.containers.delete(c.id);
    this.emit(c, "destroy");
  }

  async listTaskContainers(filter: { nodeId?: string } = {}): Promise<TaskContainerSummary[]> {
    this.check("list");
    return [...this.containers.values()]
      .filter((c) => !filter.nodeId || c.req.body.Labels?.[LABEL_NODE_ID] === filter.nodeId)
      .map((c) => {
        const labels = { ...c.req.body.Labels };
        const taskId = labels[LABEL_TASK_ID] ?? "";
        return {
          id: c.id,
          name: c.name,
          taskId,
          serviceId: labels[LABEL_SERVICE_ID] ?? "",
          nodeId: labels[LABEL_NODE_ID] ?? "",
          state: c.state,
          labels,
        };
      })
      .filter((c) => c.taskId !== "");
  }

  subscribeEvents(onEvent: (e: ContainerEvent) => void, onError: (err: unknown) => void): EventSubscription {
    this.subscribers.add(onEvent);
    this.errorHandlers.set(onEvent, onError);
    return {
      close: () => {
        this.subscribers.delete(onEvent);
        this.errorHandlers.delete(onEvent);
      },
    };
  }

  /** Breaks every event stream, as a dockerd restart does; events until re-subscription are lost. */
  breakEventStreams(): void {
    const handlers = [...this.errorHandlers.values()];
    this.subscribers.clear();
    this.errorHandlers.clear();
    for (const h of handlers) h(new ShoalError(ErrorCode.Unavailable, "dockerd event stream ended"));
  }

  async *logs(nameOrId: string): AsyncIterable<LogLine> {
    const c = this.must(nameOrId);
    for (const l of c.behaviour.logs ?? []) yield { stream: "stdout", line: Buffer.from(`${l}\n`) };
  }

  async describe(): Promise<NodeDescription> {
    this.check("describe");
    return (
      this.opts.description ?? {
        Hostname: "fake-node",
        Platform: { Architecture: "x86_64", OS: "linux" },
        Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 1024 ** 3 },
        Engine: { EngineVersion: "20.10.24-fake", Labels: {}, Plugins: [] },
      }
    );
  }

  // ---- test controls ----

  /** The pretend container of a name or ID. */
  container(nameOrId: string): Readonly<FakeContainer> | undefined {
    return this.find(nameOrId);
  }

  /** Every pretend container. */
  all(): ReadonlyArray<Readonly<FakeContainer>> {
    return [...this.containers.values()];
  }

  /** Makes a running container exit now with `code` (a crash, or `docker kill`). */
  crash(nameOrId: string, code = 137): void {
    const c = this.must(nameOrId);
    if (c.state === "running") this.exit(c, code);
  }

  /** Sets a running container's health now. */
  setHealth(c: FakeContainer | string, health: HealthState): void {
    const ctr = typeof c === "string" ? this.must(c) : c;
    if (ctr.state !== "running" || ctr.health === health) return;
    ctr.health = health;
    this.emit(ctr, "health_status", { health });
  }

  private exit(c: FakeContainer, code: number): void {
    if (c.state !== "running") return;
    for (const t of c.timers) t.cancel();
    c.timers = [];
    c.state = "exited";
    c.exitCode = code;
    c.pid = 0;
    this.emit(c, "die", { exitCode: code });
    for (const resolve of c.onExit.splice(0)) resolve();
  }

  private emit(
    c: FakeContainer,
    action: ContainerEvent["action"],
    extra: Partial<ContainerEvent> = {},
  ): void {
    const taskId = c.req.body.Labels?.[LABEL_TASK_ID] ?? "";
    if (!taskId) return;
    const e: ContainerEvent = {
      action,
      containerId: c.id,
      name: c.name,
      taskId,
      timeNano: this.opts.clock.now() * 1e6,
      ...extra,
    };
    for (const s of [...this.subscribers]) s(e);
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.down)
      throw new ShoalError(
        ErrorCode.Unavailable,
        "cannot reach dockerd: connect ECONNREFUSED /var/run/docker.sock",
      );
  }

  private find(nameOrId: string): FakeContainer | undefined {
    return this.containers.get(nameOrId) ?? [...this.containers.values()].find((c) => c.name === nameOrId);
  }

  private must(nameOrId: string): FakeContainer {
    const c = this.find(nameOrId);
    if (!c) throw new ShoalError(ErrorCode.NotFound, `No such container: ${nameOrId}`);
    return c;
  }
}

/** The real Executor on a FakeEngine. */
export class FakeExecutor extends Executor {
  readonly engine: FakeEngine;

  constructor(
    opts: Omit<ExecutorOptions, "engine"> & { engine?: FakeEngine; fake?: Omit<FakeEngineOptions, "clock"> },
  ) {
    const engine = opts.engine ?? new FakeEngine({ clock: opts.clock, ...opts.fake });
    super({ ...opts, engine });
    this.engine = engine;
  }
}

/** Lets pending promise continuations run (runners react to the fake engine asynchronously). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
