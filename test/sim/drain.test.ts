/**
 * Zero-drop invariants across a simulated cluster: the whole manager, three real agents with the
 * real Executor, each over its own FakeEngine, on the memory store and the system clock. Every
 * peer view an agent receives is recorded (its serving tasks: the backends); every stop signal and
 * every new backend is checked against them when it happens:
 *   - a container gets its stop signal only after its task left the view of every node that has
 *     containers on the network, at least about the drain period earlier;
 *   - a task enters a view only once its container runs and, with a healthcheck, is healthy.
 * Scenarios: stop-first and start-first updates, a scale-down, a node drain.
 */
import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { after, before, describe, test } from "node:test";
import { FakeEngine } from "../../src/agent/executor/fake.ts";
import { Executor } from "../../src/agent/executor/index.ts";
import { Agent, type TaskExecutor } from "../../src/agent/index.ts";
import {
  isServing,
  type NetworkPeers,
  type ServiceSpec,
  type SwarmService,
  type Task,
} from "../../src/api/index.ts";
import { MemoryLogger, RandomIds, SystemClock } from "../../src/base/index.ts";
import { ControlApiImpl } from "../../src/manager/controlapi/index.ts";
import { Manager, soleLeadership } from "../../src/manager/index.ts";
import { MemoryStore } from "../../src/store/memory.ts";
import { until } from "./harness.ts";

const MS = 1_000_000;
const DRAIN_MS = 300;
const NODES = ["node1aaaaaaaaaaaaaaaaaaaaa", "node2aaaaaaaaaaaaaaaaaaaaa", "node3aaaaaaaaaaaaaaaaaaaaa"];
const taskOfContainer = (name: string): string => name.split(".").at(-1) ?? "";

/** What the agents were told and what their engines did, checked as it happens. */
class Observer {
  /** node → the backends (task IDs) of its latest peer view. */
  readonly views = new Map<string, Set<string>>();
  /** node → task → when it left that node's view. */
  readonly leftAt = new Map<string, Map<string, number>>();
  readonly engines = new Map<string, FakeEngine>();
  readonly violations: string[] = [];
  stopsChecked = 0;
  joinsChecked = 0;

  peers(node: string, peers: NetworkPeers): void {
    const before = this.views.get(node) ?? new Set<string>();
    // a task not serving stays in the view (reachable over the overlay) but gets no new requests
    const after = new Set(peers.tasks.filter(isServing).map((t) => t.ID));
    const left = this.leftAt.get(node) ?? new Map<string, number>();
    this.leftAt.set(node, left);
    for (const id of before) if (!after.has(id)) left.set(id, Date.now());
    for (const id of after) {
      left.delete(id);
      if (!before.has(id)) this.joined(node, id);
    }
    this.views.set(node, after);
  }

  /** Called before a container is stopped. */
  stopping(node: string, name: string): void {
    const taskId = taskOfContainer(name);
    if (this.engines.get(node)?.container(name)?.state !== "running") return;
    this.stopsChecked++;
    for (const [other, engine] of this.engines) {
      // a node without a running container sends no traffic: its view may lag
      if (!engine.all().some((c) => c.state === "running")) continue;
      if (this.views.get(other)?.has(taskId)) {
        this.violations.push(`${taskId} stopped on ${node} while still a backend on ${other}`);
        continue;
      }
      const left = this.leftAt.get(other)?.get(taskId);
      if (left !== undefined && Date.now() - left < DRAIN_MS / 2) {
        this.violations.push(`${taskId} stopped ${Date.now() - left} ms after leaving ${other}'s view`);
      }
    }
  }

  private joined(node: string, taskId: string): void {
    this.joinsChecked++;
    for (const engine of this.engines.values()) {
      const c = engine.all().find((x) => taskOfContainer(x.name) === taskId);
      if (!c) continue;
      if (c.state !== "running" || (c.health !== "none" && c.health !== "healthy")) {
        this.violations.push(`${taskId} became a backend on ${node} while ${c.state}/${c.health}`);
      }
      return;
    }
    this.violations.push(`${taskId} became a backend on ${node} without a container`);
  }
}

/** A FakeEngine that reports every stop signal to the observer first. */
class ObservedEngine extends FakeEngine {
  constructor(
    clock: SystemClock,
    private readonly node: string,
    private readonly observer: Observer,
  ) {
    super({ clock, description: { Hostname: node, Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 2 ** 30 } } });
  }

  override async stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void> {
    const name = this.container(nameOrId)?.name;
    if (name) this.observer.stopping(this.node, name);
    return super.stopContainer(nameOrId, timeoutSeconds);
  }
}

describe("drain and health gating across three simulated nodes", () => {
  const store = new MemoryStore();
  const clock = new SystemClock();
  const ids = new RandomIds();
  const logger = new MemoryLogger();
  const control = new ControlApiImpl({ store, clock, ids, logger });
  const observer = new Observer();
  const ac = new AbortController();
  // the manager's loops and three agents all listen on this one signal
  setMaxListeners(50, ac.signal);
  let running: Promise<unknown> | undefined;
  const executors: Executor[] = [];
  let serviceId = "";

  const tasks = (): Task[] => store.view((tx) => tx.lookup("tasks", "service", serviceId));
  const live = () => tasks().filter((t) => t.Status?.State === "running" && t.DesiredState === "running");
  const settled = (n: number) => () =>
    live().length === n &&
    tasks().every((t) => t.DesiredState === "running" || (t.Status?.State ?? "new") !== "running");
  const stored = () => store.view((tx) => tx.get("services", serviceId)) as SwarmService;
  async function update(change: (s: ServiceSpec) => ServiceSpec): Promise<void> {
    const svc = control.getService(serviceId);
    await control.updateService(serviceId, svc.Version?.Index ?? 0, change(svc.Spec as ServiceSpec));
  }
  const withEnv = (env: string) => (s: ServiceSpec) => ({
    ...s,
    TaskTemplate: {
      ...s.TaskTemplate,
      ContainerSpec: { ...s.TaskTemplate?.ContainerSpec, Env: [env, 'SHOAL_FAKE={"healthyAfterMs":150}'] },
    },
  });
  const checkClean = (what: string) => {
    assert.deepEqual(observer.violations, [], what);
  };

  before(async () => {
    await store.update((tx) => {
      tx.create("clusters", {
        ID: "cluster1",
        Spec: { Name: "default", Orchestration: { TaskHistoryRetentionLimit: 3 } },
      });
      for (const [i, id] of NODES.entries()) {
        tx.create("nodes", {
          ID: id,
          Spec: { Role: i === 0 ? "manager" : "worker", Availability: "active" },
          Status: { State: "unknown", Addr: `10.99.0.${i + 1}` },
          Description: { Hostname: id },
        });
      }
    });
    const manager = new Manager({ store, clock, ids, logger, leadership: soleLeadership });
    const runs: Promise<unknown>[] = [manager.run(ac.signal)];
    for (const node of NODES) {
      const engine = new ObservedEngine(clock, node, observer);
      observer.engines.set(node, engine);
      let report: Agent["reportStatus"] = () => undefined;
      const executor = new Executor({
        engine,
        nodeId: node,
        clock,
        logger,
        onStatus: (taskId, status) => report({ taskId, status }),
      });
      executors.push(executor);
      const observed: TaskExecutor = {
        describeNode: () => executor.describeNode(),
        assign: async (assigned, payloads, peers) => {
          // the data plane's order: rules follow the view before the executor acts on the tasks
          if (peers) observer.peers(node, peers);
          await executor.assign(assigned, payloads);
        },
      };
      const agent = new Agent({
        nodeId: node,
        connector: manager.dispatcher,
        executor: observed,
        clock,
        logger,
      });
      report = agent.reportStatus;
      runs.push(agent.run(ac.signal));
    }
    running = Promise.all(runs);
    const net = await control.createNetwork({ Name: "backend", Driver: "overlay", Attachable: true });
    const { ID } = await control.createService({
      Name: "web",
      Labels: { "io.shoal.drain-period": `${DRAIN_MS}ms` },
      TaskTemplate: {
        ContainerSpec: {
          Image: "busybox:local",
          Args: ["httpd"],
          Env: ["V=0", 'SHOAL_FAKE={"healthyAfterMs":150}'],
          Healthcheck: { Test: ["CMD", "true"], Interval: 50 * MS },
        } as NonNullable<ServiceSpec["TaskTemplate"]>["ContainerSpec"],
        Networks: [{ Target: net.ID }],
        RestartPolicy: { Condition: "any", Delay: 50 * MS },
      },
      Mode: { Replicated: { Replicas: 6 } },
      UpdateConfig: { Parallelism: 2, Monitor: 200 * MS, FailureAction: "pause", Order: "stop-first" },
    });
    serviceId = ID;
    await until("6 web tasks running", settled(6), 20_000);
  });

  after(async () => {
    ac.abort();
    await running;
    await Promise.all(executors.map((e) => e.stop()));
    if (process.exitCode) for (const l of logger.lines.slice(-60)) console.error(JSON.stringify(l));
  });

  test("every node's view lists the six backends, each joined once running and healthy", async () => {
    await until("views converged", () =>
      NODES.every((n) => (observer.views.get(n)?.size ?? 0) === 6 || live().every((t) => t.NodeID !== n)),
    );
    assert.ok(observer.joinsChecked >= 6);
    checkClean("initial placement");
  });

  test("stop-first update: each old task leaves every view before its stop signal", async () => {
    const before = observer.stopsChecked;
    await update(withEnv("V=1"));
    await until("update completed", () => stored().UpdateStatus?.State === "completed", 30_000);
    await until("settled", settled(6), 20_000);
    assert.ok(observer.stopsChecked - before >= 6, `stops checked: ${observer.stopsChecked - before}`);
    checkClean("stop-first update");
  });

  test("start-first update: the same, with the new tasks joining only when healthy", async () => {
    const before = observer.stopsChecked;
    await update((s) => ({
      ...withEnv("V=2")(s),
      UpdateConfig: { ...s.UpdateConfig, Order: "start-first" },
    }));
    await until("update completed", () => stored().UpdateStatus?.State === "completed", 30_000);
    await until("settled", settled(6), 20_000);
    assert.ok(observer.stopsChecked - before >= 6);
    checkClean("start-first update");
  });

  test("scale-down to 3: the surplus tasks drain before their stop", async () => {
    const before = observer.stopsChecked;
    await update((s) => ({ ...s, Mode: { Replicated: { Replicas: 3 } } }));
    await until("3 left", settled(3), 20_000);
    await until(
      "their containers stopped",
      () =>
        [...observer.engines.values()].flatMap((e) => e.all()).filter((c) => c.state === "running").length ===
        3,
    );
    assert.ok(observer.stopsChecked - before >= 3);
    checkClean("scale-down");
  });

  test("node drain: the drained node's tasks drain before their stop, replacements join healthy", async () => {
    const victim = live()[0]?.NodeID ?? "";
    const node = control.getNode(victim);
    const before = observer.stopsChecked;
    await control.updateNode(victim, node.Version?.Index ?? 0, { ...node.Spec, Availability: "drain" });
    await until(
      "nothing running on the drained node",
      () => settled(3)() && live().every((t) => t.NodeID !== victim),
      20_000,
    );
    await until("its containers stopped", () =>
      (observer.engines.get(victim)?.all() ?? []).every((c) => c.state !== "running"),
    );
    assert.ok(observer.stopsChecked > before);
    checkClean("node drain");
  });
});
