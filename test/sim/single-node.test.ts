/**
 * The whole manager (allocator, orchestrators, scheduler, dispatcher) with a real agent and the real
 * Executor over a FakeEngine, on the memory store: services converge, scale, heal and go away.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeEngine } from "../../src/agent/executor/fake.ts";
import { Executor } from "../../src/agent/executor/index.ts";
import { Agent } from "../../src/agent/index.ts";
import type { ServiceSpec, Task } from "../../src/api/index.ts";
import { MemoryLogger, RandomIds, SystemClock } from "../../src/base/index.ts";
import { ControlApiImpl } from "../../src/manager/controlapi/index.ts";
import { Manager, soleLeadership } from "../../src/manager/index.ts";
import { MemoryStore } from "../../src/store/memory.ts";

const NODE = "node1aaaaaaaaaaaaaaaaaaaaa";

async function until<T>(what: string, probe: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    const v = probe();
    if (v) return v;
    last = v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

describe("single node: manager + agent + executor on a fake engine", () => {
  const store = new MemoryStore();
  const clock = new SystemClock();
  const ids = new RandomIds();
  const logger = new MemoryLogger();
  const control = new ControlApiImpl({ store, clock, ids, logger });
  const engine = new FakeEngine({
    clock,
    description: { Hostname: "sim1", Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 2 ** 30 } },
  });
  const ac = new AbortController();
  let running: Promise<unknown> | undefined;

  before(async () => {
    await store.update((tx) => {
      tx.create("clusters", {
        ID: "cluster1",
        Spec: { Name: "default", Orchestration: { TaskHistoryRetentionLimit: 5 } },
      });
      tx.create("nodes", {
        ID: NODE,
        Spec: { Role: "manager", Availability: "active" },
        Status: { State: "unknown" },
        Description: { Hostname: "sim1" },
      });
    });
    const manager = new Manager({ store, clock, ids, logger, leadership: soleLeadership });
    let report: Agent["reportStatus"] = () => undefined;
    const executor = new Executor({
      engine,
      nodeId: NODE,
      clock,
      logger,
      onStatus: (taskId, status) => report({ taskId, status }),
    });
    const agent = new Agent({ nodeId: NODE, connector: manager.dispatcher, executor, clock, logger });
    report = agent.reportStatus;
    running = Promise.all([manager.run(ac.signal), agent.run(ac.signal)]);
  });

  after(async () => {
    ac.abort();
    await running;
    if (process.exitCode) for (const l of logger.lines.slice(-50)) console.error(JSON.stringify(l));
  });

  const tasksOf = (serviceId: string): Task[] => store.view((tx) => tx.lookup("tasks", "service", serviceId));
  const runningOf = (serviceId: string) =>
    tasksOf(serviceId).filter((t) => t.Status?.State === "running" && t.DesiredState === "running");

  const spec = (name: string, replicas: number, env: string[] = []): ServiceSpec => ({
    Name: name,
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:local", Args: ["sleep", "1000"], Env: env },
      RestartPolicy: { Condition: "any", Delay: 50_000_000 },
    },
    Mode: { Replicated: { Replicas: replicas } },
  });

  test("a replicated service converges to its replica count", async () => {
    const { ID } = await control.createService(spec("web", 3));
    await until("3 running tasks", () => runningOf(ID).length === 3);
    const slots = runningOf(ID)
      .map((t) => t.Slot)
      .sort();
    assert.deepEqual(slots, [1, 2, 3]);
    assert.ok(runningOf(ID).every((t) => t.NodeID === NODE));
  });

  test("scale up and down", async () => {
    const svc = control.getService("web");
    await control.updateService("web", svc.Version?.Index ?? 0, {
      ...svc.Spec,
      Mode: { Replicated: { Replicas: 5 } },
    });
    await until("5 running", () => runningOf(svc.ID).length === 5);
    const again = control.getService("web");
    await control.updateService("web", again.Version?.Index ?? 0, {
      ...again.Spec,
      Mode: { Replicated: { Replicas: 2 } },
    });
    await until(
      "2 running and the rest removed",
      () => runningOf(svc.ID).length === 2 && tasksOf(svc.ID).length === 2,
    );
  });

  test("a task whose container exits is replaced per the restart policy", async () => {
    const { ID } = await control.createService(spec("flaky", 1, ['SHOAL_FAKE={"runMs":100,"exitCode":1}']));
    const failed = await until("a failed task", () => tasksOf(ID).find((t) => t.Status?.State === "failed"));
    assert.equal(failed.Status?.ContainerStatus?.ExitCode, 1);
    await until(
      "a replacement in the same slot",
      () => tasksOf(ID).filter((t) => t.Slot === failed.Slot).length >= 2,
    );
  });

  test("service removal shuts tasks down and deletes them", async () => {
    await control.removeService("web");
    await control.removeService("flaky");
    await until("no tasks left", () => store.view((tx) => tx.list("tasks")).length === 0);
  });
});
