import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Node, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import { globalEligible, reconcileGlobal, serviceConstraintsMatch } from "./global.ts";
import type { Decisions } from "./plan.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const runnable = (t: SwarmTask) => TaskStates[t.DesiredState ?? "new"] <= TaskStates.running;

const arbNodes = fc.tuple(
  ...["n1", "n2", "n3", "n4", "n5"].map((id) =>
    fc
      .record({
        state: fc.constantFrom("ready", "ready", "down", "unknown"),
        availability: fc.constantFrom("active", "active", "pause", "drain"),
        db: fc.boolean(),
      })
      .map((o) =>
        makeNode(id, {
          state: o.state as "ready",
          availability: o.availability as "active",
          labels: o.db ? { role: "db" } : {},
        }),
      ),
  ),
);

const arbTask = fc.record({
  node: fc.constantFrom("n1", "n2", "n3", "n4", "n5", "gone"),
  state: fc.constantFrom("assigned", "running", "running", "complete", "failed", "shutdown"),
  desired: fc.constantFrom("running", "running", "shutdown"),
});

function apply(tasks: SwarmTask[], d: Decisions): SwarmTask[] {
  const gone = new Set(d.delete);
  const updated = new Map(d.update.map((t) => [t.ID, t]));
  return [...tasks.filter((t) => !gone.has(t.ID)).map((t) => updated.get(t.ID) ?? t), ...d.create];
}

describe("reconcileGlobal: properties", () => {
  it("one runnable task per eligible active node, none elsewhere, stable second pass", () => {
    const service = makeService("g", {
      mode: "global",
      template: { ContainerSpec: { Image: "x" }, Placement: { Constraints: ["node.labels.role!=db"] } },
    });
    fc.assert(
      fc.property(arbNodes, fc.array(arbTask, { maxLength: 10 }), (nodeList, raw) => {
        const nodes = new Map<string, Node>(nodeList.map((n) => [n.ID, n]));
        const tasks = raw.map((r, i) =>
          makeTask(`t${i}`, service, {
            node: r.node,
            state: r.state as "running",
            desired: r.desired as "running",
          }),
        );
        const ids = new SeededIds(5);
        const after = apply(tasks, reconcileGlobal({ service, tasks, nodes, now: T0, ids }));
        for (const node of nodes.values()) {
          const live = after.filter((t) => t.NodeID === node.ID && runnable(t));
          const wanted = globalEligible(node) && serviceConstraintsMatch(service, node);
          if (!wanted) assert.equal(live.length, 0, `${node.ID} should run nothing`);
          else if (node.Spec?.Availability === "active")
            assert.ok(live.length >= 1, `${node.ID} needs a task`);
        }
        assert.ok(
          after.every((t) => nodes.has(t.NodeID ?? "")),
          "tasks of deleted nodes are deleted",
        );
        const again = reconcileGlobal({ service, tasks: after, nodes, now: T0, ids });
        assert.deepEqual([again.create, again.update, again.delete], [[], [], []]);
      }),
      { numRuns: 500 },
    );
  });
});
