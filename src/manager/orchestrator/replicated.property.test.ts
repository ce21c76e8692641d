import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Node, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import type { Decisions } from "./plan.ts";
import { reconcileReplicated } from "./replicated.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const desiredNum = (t: SwarmTask) => TaskStates[t.DesiredState ?? "new"];

const arbNodes = fc.tuple(
  ...["n1", "n2", "n3", "n4"].map((id) =>
    fc
      .record({
        state: fc.constantFrom("ready", "ready", "down", "unknown"),
        availability: fc.constantFrom("active", "active", "pause", "drain"),
      })
      .map((o) => makeNode(id, o as { state: "ready"; availability: "active" })),
  ),
);

const arbTask = fc.record({
  slot: fc.integer({ min: 1, max: 10 }),
  node: fc.constantFrom(undefined, "n1", "n2", "n3", "n4", "gone"),
  state: fc.constantFrom(
    "new",
    "pending",
    "assigned",
    "running",
    "running",
    "complete",
    "failed",
    "shutdown",
  ),
  desired: fc.constantFrom("running", "running", "running", "shutdown", "remove"),
  age: fc.integer({ min: 0, max: 600 }),
});

function apply(tasks: SwarmTask[], d: Decisions): SwarmTask[] {
  const gone = new Set(d.delete);
  const updated = new Map(d.update.map((t) => [t.ID, t]));
  return [...tasks.filter((t) => !gone.has(t.ID)).map((t) => updated.get(t.ID) ?? t), ...d.create];
}

describe("reconcileReplicated: properties", () => {
  it("never lowers a desired state, ends with exactly Replicas runnable slots, and is stable", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        arbNodes,
        fc.array(arbTask, { maxLength: 14 }),
        (replicas, nodeList, raw) => {
          const service = makeService("svc", { replicas });
          const nodes = new Map<string, Node>(nodeList.map((n) => [n.ID, n]));
          const tasks = raw.map((r, i) =>
            makeTask(`t${i}`, service, {
              slot: r.slot,
              ...(r.node && r.state !== "new" && r.state !== "pending" ? { node: r.node } : {}),
              state: r.state as "running",
              desired: r.desired as "running",
              createdAt: T0 - r.age * 1000,
            }),
          );
          const ids = new SeededIds(11);
          const d = reconcileReplicated({ service, tasks, nodes, now: T0, ids });
          const before = new Map(tasks.map((t) => [t.ID, t]));
          for (const t of d.update) {
            assert.ok(desiredNum(t) >= desiredNum(before.get(t.ID) as SwarmTask), `${t.ID} lowered`);
          }
          for (const t of d.create) {
            assert.equal(t.Status?.State, "new");
            assert.ok((t.Slot ?? 0) >= 1);
          }
          const after = apply(tasks, d);
          const runnable = new Set(
            after.filter((t) => desiredNum(t) <= TaskStates.running).map((t) => t.Slot),
          );
          assert.equal(runnable.size, replicas);

          const again = reconcileReplicated({ service, tasks: after, nodes, now: T0, ids });
          assert.deepEqual(again.create, [], "second pass creates nothing");
          assert.deepEqual(again.update, [], "second pass changes nothing");
        },
      ),
      { numRuns: 500 },
    );
  });
});
