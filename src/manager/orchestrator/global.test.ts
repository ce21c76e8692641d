import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Node, SwarmTask } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import { reconcileGlobal } from "./global.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const svc = makeService("g", {
  mode: "global",
  template: { ContainerSpec: { Image: "x" }, Placement: { Constraints: ["node.labels.role!=db"] } },
});
const nodes = (...list: Node[]) => new Map(list.map((n) => [n.ID, n]));
const run = (tasks: SwarmTask[], ns: Map<string, Node>) =>
  reconcileGlobal({ service: svc, tasks, nodes: ns, now: T0, ids: new SeededIds(3) });
const desired = (ts: SwarmTask[]) => Object.fromEntries(ts.map((t) => [t.ID, t.DesiredState]));

describe("reconcileGlobal", () => {
  it("one task per eligible node, NodeID preset, slot 0", () => {
    const ns = nodes(
      makeNode("ready"),
      makeNode("unknown", { state: "unknown" }), // SwarmKit only drops down and drained nodes
      makeNode("down", { state: "down" }),
      makeNode("drained", { availability: "drain" }),
      makeNode("paused", { availability: "pause" }),
      makeNode("db", { labels: { role: "db" } }),
    );
    const d = run([], ns);
    assert.deepEqual(d.create.map((t) => t.NodeID).sort(), ["ready", "unknown"]);
    for (const t of d.create) {
      assert.equal(t.Slot, 0);
      assert.equal(t.DesiredState, "running");
    }
  });

  it("shuts down tasks on drained, down and mismatched nodes; deletes tasks of deleted nodes", () => {
    const ns = nodes(
      makeNode("ok"),
      makeNode("down", { state: "down" }),
      makeNode("drained", { availability: "drain" }),
      makeNode("db", { labels: { role: "db" } }),
    );
    const tasks = ["ok", "down", "drained", "db", "gone"].map((n) => makeTask(`t-${n}`, svc, { node: n }));
    const d = run(tasks, ns);
    assert.deepEqual(desired(d.update), {
      "t-db": "shutdown",
      "t-down": "shutdown",
      "t-drained": "shutdown",
    });
    assert.deepEqual(d.delete, ["t-gone"]);
    assert.deepEqual(d.create, []);
    assert.deepEqual(
      d.slots.map((s) => s.map((t) => t.ID)),
      [["t-ok"]],
    );
  });

  it("restarts a failed task on the same node, but shuts it down on a paused node", () => {
    const ns = nodes(makeNode("a"), makeNode("p", { availability: "pause" }));
    const d = run(
      [
        makeTask("ta", svc, { node: "a", state: "failed" }),
        makeTask("tp", svc, { node: "p", state: "failed" }),
      ],
      ns,
    );
    assert.deepEqual(desired(d.update), { ta: "shutdown", tp: "shutdown" });
    assert.deepEqual(
      d.create.map((t) => [t.NodeID, t.DesiredState]),
      [["a", "ready"]],
    );
  });

  it("leaves a paused node's running task alone", () => {
    const d = run([makeTask("tp", svc, { node: "p" })], nodes(makeNode("p", { availability: "pause" })));
    assert.deepEqual([d.create, d.update, d.delete], [[], [], []]);
  });
});
