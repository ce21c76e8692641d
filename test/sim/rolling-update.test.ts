/**
 * Rolling updates end to end on one node: the whole manager with a real agent and the real
 * Executor over a FakeEngine, on the memory store and the system clock. Invariants are checked on
 * every store change through a watch, not by polling.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServiceSpec, SwarmService, Task } from "../../src/api/index.ts";
import { SimNode, until } from "./harness.ts";

const MS = 1_000_000;

describe("rolling updates: manager + agent + executor on a fake engine", () => {
  const sim = new SimNode();
  const { store, control } = sim;
  before(() => sim.start());
  after(() => sim.stop(80));

  const tasksOf = (serviceId: string): Task[] => store.view((tx) => tx.lookup("tasks", "service", serviceId));
  const runningOf = (serviceId: string) => tasksOf(serviceId).filter((t) => t.Status?.State === "running");
  const stored = (id: string) => store.view((tx) => tx.get("services", id)) as SwarmService;
  const envOf = (t: Task) => t.Spec?.ContainerSpec?.Env ?? [];

  /** The fewest and most tasks observed RUNNING at once, over every store change until stopped. */
  function watchRunning(serviceId: string) {
    const local = new AbortController();
    const seen = { min: Number.POSITIVE_INFINITY, max: 0 };
    const done = (async () => {
      for await (const ev of store.watch({ tables: ["tasks"], signal: local.signal })) {
        if ((ev.object as Task).ServiceID !== serviceId) continue;
        const n = runningOf(serviceId).length;
        seen.min = Math.min(seen.min, n);
        seen.max = Math.max(seen.max, n);
      }
    })();
    return {
      seen,
      stop: async () => {
        local.abort();
        await done.catch(() => undefined);
        return seen;
      },
    };
  }

  const spec = (name: string, update: ServiceSpec["UpdateConfig"], env: string[] = []): ServiceSpec => ({
    Name: name,
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:local", Args: ["sleep", "1000"], Env: env },
      RestartPolicy: { Condition: "any", Delay: 50 * MS },
    },
    Mode: { Replicated: { Replicas: 3 } },
    UpdateConfig: {
      Monitor: 300 * MS,
      FailureAction: "pause",
      Order: "stop-first",
      Parallelism: 1,
      ...update,
    },
    RollbackConfig: { Monitor: 300 * MS, FailureAction: "pause", Order: "stop-first", Parallelism: 0 },
  });

  async function update(name: string, change: (s: ServiceSpec) => ServiceSpec, rollback?: string) {
    const svc = control.getService(name);
    await control.updateService(name, svc.Version?.Index ?? 0, change(svc.Spec as ServiceSpec), {
      ...(rollback ? { rollback } : {}),
    });
  }
  const withEnv = (env: string[]) => (s: ServiceSpec) => ({
    ...s,
    TaskTemplate: { ...s.TaskTemplate, ContainerSpec: { ...s.TaskTemplate?.ContainerSpec, Env: env } },
  });
  const stateOf = (id: string) => stored(id).UpdateStatus?.State;

  test("an env change rolls every slot, one at a time (stop-first, parallelism 1)", async () => {
    const { ID } = await control.createService(spec("roll", {}));
    await until("3 running", () => runningOf(ID).length === 3);
    const watch = watchRunning(ID);
    await update("roll", withEnv(["A=1"]));
    await until("update completed", () => stateOf(ID) === "completed");
    const seen = await watch.stop();
    const live = runningOf(ID).filter((t) => t.DesiredState === "running");
    assert.equal(live.length, 3);
    assert.ok(live.every((t) => envOf(t).includes("A=1")));
    assert.ok(seen.min >= 2, `never fewer than replicas - parallelism running (saw ${seen.min})`);
    const status = stored(ID).UpdateStatus;
    assert.equal(status?.Message, "update completed");
    assert.ok(status?.StartedAt && status.CompletedAt && status.StartedAt <= status.CompletedAt);
  });

  test("start-first runs the new task before stopping the old one", async () => {
    const watch = watchRunning(stored(control.getService("roll").ID).ID);
    const { ID } = control.getService("roll");
    await update("roll", (s) => ({
      ...withEnv(["A=2"])(s),
      UpdateConfig: { ...s.UpdateConfig, Order: "start-first", Parallelism: 2 },
    }));
    await until("update completed", () => stateOf(ID) === "completed");
    const seen = await watch.stop();
    assert.ok(seen.min >= 3, `never below the replica count (saw ${seen.min})`);
    assert.ok(seen.max >= 4, `new tasks ran beside the old ones (saw at most ${seen.max})`);
    const live = runningOf(ID).filter((t) => t.DesiredState === "running");
    assert.ok(live.length === 3 && live.every((t) => envOf(t).includes("A=2")));
  });

  test("start-first with a healthcheck (new tasks report running once healthy) keeps every slot serving", async () => {
    const { ID } = control.getService("roll");
    const watch = watchRunning(ID);
    await update("roll", (s) => {
      const next = withEnv(["A=3", 'SHOAL_FAKE={"healthyAfterMs":400}'])(s);
      const container = {
        ...next.TaskTemplate?.ContainerSpec,
        Healthcheck: { Test: ["CMD", "true"], Interval: 100 * MS },
      };
      return { ...next, TaskTemplate: { ...next.TaskTemplate, ContainerSpec: container } };
    });
    await until("update completed", () => stateOf(ID) === "completed");
    const seen = await watch.stop();
    assert.ok(seen.min >= 3, `never below the replica count (saw ${seen.min})`);
    const live = runningOf(ID).filter((t) => t.DesiredState === "running");
    assert.ok(live.length === 3 && live.every((t) => envOf(t).includes("A=3")));
  });

  test("a failing update with failure action pause pauses the rollout", async () => {
    const { ID } = control.getService("roll");
    await update("roll", (s) => ({
      ...withEnv(['SHOAL_FAKE={"runMs":50,"exitCode":1}'])(s),
      // the delay lets the first new task's failure (after 50 ms) be seen before the next slot
      UpdateConfig: {
        ...s.UpdateConfig,
        Order: "stop-first",
        Parallelism: 1,
        Delay: 300 * MS,
        FailureAction: "pause",
      },
    }));
    await until("update paused", () => stateOf(ID) === "paused");
    assert.match(
      stored(ID).UpdateStatus?.Message ?? "",
      /^update paused due to failure or early termination of task [a-z0-9]+$/,
    );
    // The update paused before reaching every slot. How many it touched depends on when the failure
    // is seen: as in Swarm, the next slot may start once the first new task runs, before it fails.
    const old = runningOf(ID).filter((t) => envOf(t).includes("A=3"));
    assert.ok(old.length >= 1 && old.length <= 2, `slots still on the previous spec: ${old.length}`);
  });

  test("failure action rollback rolls back to the previous spec", async () => {
    const { ID } = await control.createService(
      spec("back", { FailureAction: "rollback", Parallelism: 2 }, ["V=1"]),
    );
    await until("3 running", () => runningOf(ID).length === 3);
    await update("back", withEnv(['SHOAL_FAKE={"runMs":50,"exitCode":1}']));
    await until("rollback completed", () => stateOf(ID) === "rollback_completed");
    const svc = stored(ID);
    assert.deepEqual(svc.Spec?.TaskTemplate?.ContainerSpec?.Env, ["V=1"]);
    assert.equal(svc.PreviousSpec, undefined);
    assert.equal(svc.UpdateStatus?.Message, "rollback completed");
    await until("3 running the old spec", () => {
      const live = runningOf(ID).filter((t) => t.DesiredState === "running");
      return live.length === 3 && live.every((t) => envOf(t).includes("V=1"));
    });
  });

  test("docker service rollback: a manual rollback swaps the specs back", async () => {
    const { ID } = control.getService("roll");
    await update("roll", (s) => s, "previous");
    await until("rollback completed", () => stateOf(ID) === "rollback_completed");
    const live = await until("3 running with A=3", () => {
      const l = runningOf(ID).filter((t) => t.DesiredState === "running");
      return l.length === 3 && l.every((t) => envOf(t).includes("A=3")) && l;
    });
    assert.equal(live.length, 3);
  });

  test("removal", async () => {
    await control.removeService("roll");
    await control.removeService("back");
    await until("no tasks left", () => store.view((tx) => tx.list("tasks")).length === 0);
  });
});
