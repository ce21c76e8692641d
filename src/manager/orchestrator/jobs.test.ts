import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Node, SwarmTask } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask, type TaskOptions } from "../common/fixtures.ts";
import { reconcileGlobalJob, reconcileReplicatedJob } from "./jobs.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const N = new Map<string, Node>([
  ["n1", makeNode("n1")],
  ["n2", makeNode("n2")],
]);

describe("reconcileReplicatedJob", () => {
  const svc = makeService("job", {
    mode: "replicated-job",
    maxConcurrent: 2,
    totalCompletions: 5,
    jobIteration: 7,
  });
  const mk = (id: string, o: TaskOptions) =>
    makeTask(id, svc, { jobIteration: 7, desired: "complete", ...o });
  const run = (tasks: SwarmTask[]) =>
    reconcileReplicatedJob({ service: svc, tasks, nodes: N, now: T0, ids: new SeededIds(5) });

  const table: Array<{ name: string; tasks: SwarmTask[]; create: number }> = [
    { name: "starts MaxConcurrent tasks", tasks: [], create: 2 },
    { name: "keeps MaxConcurrent running", tasks: [mk("a", { slot: 0, node: "n1" })], create: 1 },
    {
      name: "stops at TotalCompletions",
      tasks: [0, 1, 2, 3].map((i) => mk(`c${i}`, { slot: i, node: "n1", state: "complete" })),
      create: 1,
    },
    {
      name: "done",
      tasks: [0, 1, 2, 3, 4].map((i) => mk(`c${i}`, { slot: i, node: "n1", state: "complete" })),
      create: 0,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const d = run(c.tasks);
      assert.equal(d.create.length, c.create);
      for (const t of d.create) {
        assert.equal(t.DesiredState, "complete");
        assert.deepEqual(t.JobIteration, { Index: 7 });
      }
    });
  }

  it("new tasks take free slots from 0", () => {
    const d = run([mk("a", { slot: 0, node: "n1", state: "complete" })]);
    assert.deepEqual(
      d.create.map((t) => t.Slot),
      [1, 2],
    );
  });

  it("restarts failed tasks and removes older iterations", () => {
    const failed = mk("f", { slot: 0, node: "n1", state: "failed" });
    const old = makeTask("old", svc, { slot: 0, node: "n2", jobIteration: 6, desired: "complete" });
    const d = run([failed, old]);
    assert.deepEqual(Object.fromEntries(d.update.map((t) => [t.ID, t.DesiredState])), {
      f: "shutdown",
      old: "remove",
    });
    const replacement = d.create.find((t) => t.Slot === 0);
    assert.equal(replacement?.DesiredState, "ready");
    assert.deepEqual(replacement?.JobIteration, { Index: 7 });
  });
});

describe("reconcileGlobalJob", () => {
  const svc = makeService("gj", { mode: "global-job", jobIteration: 2 });
  it("one task per active ready node; none on paused ones; invalid nodes' tasks shut down", () => {
    const ns = new Map<string, Node>([
      ["a", makeNode("a")],
      ["p", makeNode("p", { availability: "pause" })],
      ["d", makeNode("d", { state: "down" })],
    ]);
    const onDown = makeTask("td", svc, { node: "d", jobIteration: 2, desired: "complete" });
    const d = reconcileGlobalJob({
      service: svc,
      tasks: [onDown],
      nodes: ns,
      now: T0,
      ids: new SeededIds(9),
    });
    assert.deepEqual(
      d.create.map((t) => [t.NodeID, t.DesiredState, t.JobIteration?.Index]),
      [["a", "complete", 2]],
    );
    assert.deepEqual(
      d.update.map((t) => [t.ID, t.DesiredState]),
      [["td", "shutdown"]],
    );
  });
});
