import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import { enforceNode, runConstraintEnforcer } from "./enforcer-controller.ts";

async function setup() {
  const store = new MemoryStore();
  const deps = { store, clock: new VirtualClock(Date.UTC(2026, 0, 1)), logger: silentLogger() };
  const svc = makeService("db", {
    template: { ContainerSpec: { Image: "x" }, Placement: { Constraints: ["node.labels.disk==ssd"] } },
  });
  await store.update((tx) => {
    tx.create("nodes", makeNode("n1", { labels: { disk: "ssd" } }));
    tx.create("services", svc);
    tx.create("tasks", makeTask("t1", svc, { slot: 1, node: "n1" }));
  });
  const dropLabel = () =>
    store.update((tx) => {
      const n = tx.get("nodes", "n1");
      if (n) tx.update("nodes", { ...n, Spec: { ...n.Spec, Labels: {} } });
    });
  return { store, deps, dropLabel };
}

describe("constraint enforcer loop", () => {
  it("rejects a task when its node loses the label", async () => {
    const { store, deps, dropLabel } = await setup();
    assert.equal(await enforceNode(deps, "n1"), 0);
    await dropLabel();
    assert.equal(await enforceNode(deps, "n1"), 1);
    assert.equal(store.view((tx) => tx.get("tasks", "t1"))?.Status?.State, "rejected");
  });

  it("reacts to node events", async () => {
    const { store, deps, dropLabel } = await setup();
    const ac = new AbortController();
    const loop = runConstraintEnforcer(deps, ac.signal);
    await dropLabel();
    for (let i = 0; i < 50 && store.view((tx) => tx.get("tasks", "t1"))?.Status?.State !== "rejected"; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    assert.equal(store.view((tx) => tx.get("tasks", "t1"))?.Status?.State, "rejected");
    ac.abort();
    await loop;
  });
});
