/**
 * The whole manager (allocator, orchestrators, scheduler, dispatcher) with a real agent and the real
 * Executor over a FakeEngine, on the memory store: services converge, scale, heal and go away.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServiceSpec, Task } from "../../src/api/index.ts";
import { SIM_NODE, SimNode, until } from "./harness.ts";

describe("single node: manager + agent + executor on a fake engine", () => {
  const sim = new SimNode();
  const { store, control } = sim;
  const NODE = SIM_NODE;
  before(() => sim.start());
  after(() => sim.stop());

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
