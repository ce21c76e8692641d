import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Node, SwarmTask } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask, type TaskOptions } from "../common/fixtures.ts";
import { reconcileReplicated } from "./replicated.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const nodes = (...list: Node[]) => new Map(list.map((n) => [n.ID, n]));
const N = nodes(makeNode("n1"), makeNode("n2"), makeNode("n3"));

function reconcile(replicas: number, tasks: Array<[string, TaskOptions]>, nodeMap = N) {
  const svc = makeService("svc", { replicas });
  const ts = tasks.map(([id, o]) => makeTask(id, svc, o));
  return reconcileReplicated({ service: svc, tasks: ts, nodes: nodeMap, now: T0, ids: new SeededIds(1) });
}

const desired = (ts: SwarmTask[]) => Object.fromEntries(ts.map((t) => [t.ID, t.DesiredState]));

describe("reconcileReplicated: scaling", () => {
  it("creates slots 1..N from nothing, desired running, state new", () => {
    const d = reconcile(3, []);
    assert.deepEqual(d.create.map((t) => t.Slot).sort(), [1, 2, 3]);
    for (const t of d.create) {
      assert.equal(t.DesiredState, "running");
      assert.deepEqual(t.Status, { State: "new", Timestamp: new Date(T0).toISOString(), Message: "created" });
      assert.equal(t.NodeID, undefined);
    }
  });

  it("fills the lowest free slot numbers", () => {
    const d = reconcile(4, [
      ["a", { slot: 1, node: "n1" }],
      ["b", { slot: 3, node: "n2" }],
    ]);
    assert.deepEqual(d.create.map((t) => t.Slot).sort(), [2, 4]);
  });

  it("scale-down removes from the most loaded node, non-running first, highest slot first", () => {
    const d = reconcile(2, [
      ["a", { slot: 1, node: "n1" }],
      ["b", { slot: 2, node: "n1" }],
      ["c", { slot: 3, node: "n1" }],
      ["d", { slot: 4, node: "n2" }],
      ["e", { slot: 5, node: "n3", state: "starting" }],
    ]);
    assert.deepEqual(desired(d.update), { b: "remove", c: "remove", e: "remove" });
    assert.deepEqual(d.slots.map((s) => s[0]?.ID).sort(), ["a", "d"]);
    assert.deepEqual(d.create, []);
  });

  it("scale-down during a rolling update keeps the running task that has the new spec", () => {
    const svc = makeService("svc", { replicas: 1 });
    const old = { ...svc.Spec?.TaskTemplate, ForceUpdate: 1 };
    const tasks = [
      makeTask("outdated", svc, { slot: 1, node: "n1", spec: old }),
      makeTask("updated", svc, { slot: 2, node: "n1" }),
    ];
    const d = reconcileReplicated({ service: svc, tasks, nodes: N, now: T0, ids: new SeededIds(1) });
    assert.deepEqual(desired(d.update), { outdated: "remove" });
    assert.deepEqual(
      d.slots.map((s) => s.map((t) => t.ID)),
      [["updated"]],
    );
    // an outdated running task still beats one that is not running yet
    const starting = makeTask("updated", svc, { slot: 2, node: "n1", state: "starting" });
    const d2 = reconcileReplicated({
      service: svc,
      tasks: [tasks[0] as SwarmTask, starting],
      nodes: N,
      now: T0,
      ids: new SeededIds(1),
    });
    assert.deepEqual(desired(d2.update), { updated: "remove" });
  });

  it("SwarmKit's TestReplicatedScaleDown: 7 → 6 → 4 → 2", () => {
    const placed: Array<[string, TaskOptions]> = [
      ["task1", { slot: 1, node: "n1", state: "starting" }],
      ["task2", { slot: 2, node: "n2" }],
      ["task3", { slot: 3, node: "n2" }],
      ["task4", { slot: 4, node: "n3" }],
      ["task5", { slot: 5, node: "n3" }],
      ["task6", { slot: 6, node: "n3" }],
      ["task7", { slot: 7, state: "new" }],
    ];
    const svc = makeService("svc", { replicas: 6 });
    let tasks = placed.map(([id, o]) => makeTask(id, svc, o));
    const step = (replicas: number): string[] => {
      const service = makeService("svc", { replicas });
      const d = reconcileReplicated({ service, tasks, nodes: N, now: T0, ids: new SeededIds(1) });
      const gone = new Set(d.delete);
      const updated = new Map(d.update.map((t) => [t.ID, t]));
      tasks = tasks.filter((t) => !gone.has(t.ID)).map((t) => updated.get(t.ID) ?? t);
      return d.update.filter((t) => t.DesiredState === "remove").map((t) => t.ID);
    };
    assert.deepEqual(step(6), ["task7"]); // not assigned yet
    assert.deepEqual(step(4), ["task5", "task6"]); // node3 holds the most; lowest slot stays
    assert.deepEqual(step(2), ["task1", "task3"]); // task1 is not running; node2 keeps task2
  });

  it("steady state: nothing to do", () => {
    const d = reconcile(2, [
      ["a", { slot: 1, node: "n1" }],
      ["b", { slot: 2, node: "n2" }],
    ]);
    assert.deepEqual([d.create, d.update, d.delete], [[], [], []]);
    assert.equal(d.wakeAt, undefined);
  });

  it("deletes dead slots once their tasks have left the nodes", () => {
    const d = reconcile(1, [
      ["a", { slot: 1, node: "n1" }],
      ["old", { slot: 2, node: "n2", state: "shutdown", desired: "remove" }],
      ["leaving", { slot: 3, node: "n2", state: "running", desired: "remove" }],
    ]);
    assert.deepEqual(d.delete, ["old"]);
  });
});

describe("reconcileReplicated: restarts", () => {
  it("a failed task is replaced in its slot after the restart delay", () => {
    const d = reconcile(1, [["a", { slot: 1, node: "n1", state: "failed" }]]);
    assert.deepEqual(desired(d.update), { a: "shutdown" });
    assert.equal(d.create.length, 1);
    assert.equal(d.create[0]?.Slot, 1);
    assert.equal(d.create[0]?.DesiredState, "ready");
    assert.equal(d.wakeAt, T0 + 5000);
  });

  it("a completed task with on-failure keeps its slot (no new task)", () => {
    const svc = makeService("svc", {
      replicas: 1,
      template: { ContainerSpec: { Image: "x" }, RestartPolicy: { Condition: "on-failure" } },
    });
    const t = makeTask("a", svc, { slot: 1, node: "n1", state: "complete" });
    const d = reconcileReplicated({ service: svc, tasks: [t], nodes: N, now: T0, ids: new SeededIds(1) });
    assert.deepEqual(desired(d.update), { a: "shutdown" });
    assert.deepEqual(d.create, []);
    assert.deepEqual(
      d.slots.map((s) => s.map((x) => x.ID)),
      [["a"]],
    );
  });

  it("tasks on a down node are replaced at once after the delay, without waiting", () => {
    const d = reconcile(
      1,
      [["a", { slot: 1, node: "n1" }]],
      nodes(makeNode("n1", { state: "down" }), makeNode("n2")),
    );
    assert.deepEqual(desired(d.update), { a: "shutdown" });
    assert.equal(d.create[0]?.DelayedStart?.WaitForTask, undefined);
  });

  it("tasks on a paused node are left alone", () => {
    const d = reconcile(
      1,
      [["a", { slot: 1, node: "n1" }]],
      nodes(makeNode("n1", { availability: "pause" })),
    );
    assert.deepEqual([d.create, d.update], [[], []]);
  });

  it("tasks on a deleted node are restarted", () => {
    const d = reconcile(1, [["a", { slot: 1, node: "gone" }]]);
    assert.equal(d.create.length, 1);
  });

  it("never a second replacement: a failed task whose replacement exists is only shut down", () => {
    const svc = makeService("svc", { replicas: 1 });
    const old = makeTask("a", svc, { slot: 1, node: "n1", state: "failed" });
    const held: SwarmTask = {
      ...makeTask("b", svc, { slot: 1, state: "new" }),
      DesiredState: "ready",
      DelayedStart: { NotBefore: new Date(T0 + 3000).toISOString() },
    };
    const d = reconcileReplicated({
      service: svc,
      tasks: [old, held],
      nodes: N,
      now: T0,
      ids: new SeededIds(1),
    });
    assert.deepEqual(desired(d.update), { a: "shutdown" });
    assert.deepEqual(d.create, []);
    assert.equal(d.wakeAt, T0 + 3000);
  });

  it("a slot with two running tasks keeps the newest up-to-date one", () => {
    const svc = makeService("svc", { replicas: 1 });
    const d = reconcileReplicated({
      service: svc,
      tasks: [
        makeTask("old", svc, { slot: 1, node: "n1", createdAt: T0 - 2000 }),
        makeTask("new", svc, { slot: 1, node: "n2", createdAt: T0 - 1000 }),
        makeTask("stale", svc, {
          slot: 1,
          node: "n3",
          createdAt: T0,
          spec: { ContainerSpec: { Image: "old" } },
        }),
      ],
      nodes: N,
      now: T0,
      ids: new SeededIds(1),
    });
    assert.deepEqual(desired(d.update), { old: "shutdown", stale: "shutdown" });
    assert.deepEqual(
      d.slots.map((s) => s.map((t) => t.ID)),
      [["new"]],
    );
  });

  it("a held replacement is started once its delay is over", () => {
    const svc = makeService("svc", { replicas: 1 });
    const old = makeTask("a", svc, { slot: 1, node: "n1", state: "failed", desired: "shutdown" });
    const held: SwarmTask = {
      ...makeTask("b", svc, { slot: 1, state: "new" }),
      DesiredState: "ready",
      DelayedStart: { NotBefore: new Date(T0 - 1).toISOString() },
    };
    const d = reconcileReplicated({
      service: svc,
      tasks: [old, held],
      nodes: N,
      now: T0,
      ids: new SeededIds(1),
    });
    assert.deepEqual(desired(d.update), { b: "running" });
    assert.deepEqual(d.create, []);
  });
});
