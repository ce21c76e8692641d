/**
 * A small deterministic world for the updater's tests (not used by production code): the
 * orchestrator's real step (`orchestratorStep`: reconcilers, updater, reaper, guarded writes) over a
 * MemoryStore, a virtual `now`, and a toy agent that moves each task one state per tick: it
 * places new tasks on a node, prepares held ones to READY, starts tasks to RUNNING (or FAILED, as
 * `fails` says) and stops tasks desired SHUTDOWN.
 */
import type { Node, ServiceSpec, SwarmService, SwarmTask, TaskStateName } from "../../../api/index.ts";
import { TaskStates } from "../../../api/index.ts";
import { SeededIds, silentLogger, VirtualClock } from "../../../base/index.ts";
import { MemoryStore } from "../../../store/memory.ts";
import { isoTime } from "../../common/index.ts";
import { orchestratorStep } from "../controller.ts";

export type Fails = (t: SwarmTask) => boolean;

export class World {
  readonly store = new MemoryStore();
  readonly clock = new VirtualClock();
  readonly ids: SeededIds;
  /** Which tasks fail when started (default none). */
  fails: Fails = () => false;
  /** Which tasks the agent moves on a tick (default all); property tests pick at random. */
  moves: (t: SwarmTask) => boolean = () => true;
  /** Called after every tick (invariant checks). */
  observe: () => void = () => undefined;
  private nodeIds: string[] = [];

  constructor(seed = 1) {
    this.ids = new SeededIds(seed);
  }

  get now(): number {
    return this.clock.now();
  }

  async addNodes(n: number): Promise<void> {
    const nodes: Node[] = Array.from({ length: n }, (_, i) => ({
      ID: `node${i + 1}`,
      Spec: { Role: "manager", Availability: "active" },
      Status: { State: "ready" },
      Description: { Hostname: `host${i + 1}` },
    }));
    this.nodeIds.push(...nodes.map((x) => x.ID));
    await this.store.update((tx) => {
      for (const node of nodes) tx.create("nodes", node);
    });
  }

  async createService(id: string, spec: ServiceSpec): Promise<void> {
    const at = isoTime(this.now);
    const service: SwarmService = {
      ID: id,
      Spec: spec,
      SpecVersion: { Index: 1 },
      CreatedAt: at,
      UpdatedAt: at,
    };
    await this.store.update((tx) => tx.create("services", service));
  }

  /** What the control API does on `service update` (or `--rollback` with `rollback`). */
  async updateService(id: string, change: (s: ServiceSpec) => ServiceSpec, rollback = false): Promise<void> {
    await this.store.update((tx) => {
      const s = tx.get("services", id) as SwarmService;
      const next: SwarmService = structuredClone(s);
      if (rollback) {
        next.Spec = s.PreviousSpec;
        next.SpecVersion = s.PreviousSpecVersion;
        next.PreviousSpec = s.Spec;
        next.PreviousSpecVersion = s.SpecVersion;
        next.UpdateStatus = {
          State: "rollback_started",
          Message: "manually requested rollback",
          StartedAt: isoTime(this.now),
        };
      } else {
        next.PreviousSpec = s.Spec;
        next.PreviousSpecVersion = s.SpecVersion;
        next.Spec = change(structuredClone(s.Spec ?? {}));
        next.SpecVersion = { Index: (s.Version?.Index ?? 0) + 1000 };
        next.UpdateStatus = null;
      }
      tx.update("services", next);
    });
  }

  service(id: string): SwarmService {
    return this.store.view((tx) => tx.get("services", id)) as SwarmService;
  }

  tasks(serviceId: string): SwarmTask[] {
    return this.store.view((tx) => tx.lookup("tasks", "service", serviceId)) as SwarmTask[];
  }

  /** One orchestrator pass; returns when it asked to be woken. */
  async orchestrate(): Promise<number | undefined> {
    const deps = { store: this.store, clock: this.clock, ids: this.ids, logger: silentLogger() };
    return (await orchestratorStep(deps, this.now)).wakeAt;
  }

  /** The toy agent: every task it may move goes one state on. */
  async agent(): Promise<void> {
    await this.store.update((tx) => {
      for (const t of tx.list("tasks") as SwarmTask[]) {
        if (!this.moves(t)) continue;
        const next = this.nextState(t);
        if (!next) continue;
        const placed = t.NodeID ?? this.nodeIds[((t.Slot ?? 1) - 1) % this.nodeIds.length];
        tx.update("tasks", {
          ...t,
          ...(placed ? { NodeID: placed } : {}),
          Status: { ...t.Status, State: next, Timestamp: isoTime(this.now) },
        });
      }
    });
  }

  private nextState(t: SwarmTask): TaskStateName | undefined {
    const state = TaskStates[t.Status?.State ?? "new"];
    const desired = TaskStates[t.DesiredState ?? "new"];
    if (state > TaskStates.running) return undefined;
    if (desired > TaskStates.running) return "shutdown";
    if (state < TaskStates.assigned) return "assigned";
    if (state < TaskStates.ready) return "ready";
    if (desired < TaskStates.running || state === TaskStates.running) return undefined;
    return this.fails(t) ? "failed" : "running";
  }

  /** Orchestrate and run the agent, `ticks` times, `ms` apart (then up to a wake-up asked for). */
  async run(ticks: number, ms = 100): Promise<void> {
    for (let i = 0; i < ticks; i++) {
      await this.orchestrate();
      await this.agent();
      this.observe();
      this.clock.advance(ms);
    }
  }

  /** Runs until `done` holds, or throws after `maxTicks`. */
  async until(what: string, done: () => boolean, maxTicks = 2_000, ms = 100): Promise<void> {
    for (let i = 0; i < maxTicks; i++) {
      if (done()) return;
      await this.run(1, ms);
    }
    if (!done()) throw new Error(`not reached: ${what}`);
  }
}

/** A replicated service's spec with an update config; `env` tells the specs apart. */
export function webSpec(
  replicas: number,
  env: string[],
  update: ServiceSpec["UpdateConfig"] = {},
): ServiceSpec {
  return {
    Name: "web",
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:local", Args: ["sleep", "1000"], Env: env },
      RestartPolicy: { Condition: "any", Delay: 0 },
    },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: { Parallelism: 1, FailureAction: "pause", Order: "stop-first", Monitor: 1e9, ...update },
  };
}

export const withEnv =
  (env: string[]) =>
  (s: ServiceSpec): ServiceSpec => ({
    ...s,
    TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate?.ContainerSpec, Env: env } },
  });

export const envOf = (t: SwarmTask): string[] => t.Spec?.ContainerSpec?.Env ?? [];
