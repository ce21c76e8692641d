import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SwarmTask } from "../../api/index.ts";
import { SeededIds, silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/index.ts";
import { makeNode, makeService } from "../common/fixtures.ts";
import { replicatedStep, unitsFor } from "./replicated-controller.ts";

function setup() {
  const store = new MemoryStore();
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const deps = { store, clock, logger: silentLogger(), ids: new SeededIds(3) };
  return { store, clock, deps };
}

const tasks = (store: MemoryStore): SwarmTask[] =>
  store
    .view((tx) => tx.list("tasks"))
    .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || (a.ID < b.ID ? -1 : 1));

describe("replicated controller over the memory store", () => {
  it("creates, restarts after the delay, and settles", async () => {
    const { store, clock, deps } = setup();
    await store.update((tx) => {
      tx.create("nodes", makeNode("n1"));
      tx.create("services", makeService("web", { replicas: 3 }));
    });
    await replicatedStep(deps, clock.now());
    assert.deepEqual(
      tasks(store).map((t) => [t.Slot, t.DesiredState, t.Status?.State]),
      [
        [1, "running", "new"],
        [2, "running", "new"],
        [3, "running", "new"],
      ],
    );
    // Slot 2's task fails on its node.
    const victim = tasks(store)[1] as SwarmTask;
    await store.update((tx) =>
      tx.update("tasks", {
        ...victim,
        NodeID: "n1",
        Status: { State: "failed", Timestamp: new Date(clock.now()).toISOString() },
      }),
    );
    const first = await replicatedStep(deps, clock.now());
    assert.equal(first.wakeAt, clock.now() + 5000);
    const slot2 = tasks(store).filter((t) => t.Slot === 2);
    assert.deepEqual(slot2.map((t) => t.DesiredState).sort(), ["ready", "shutdown"]);
    clock.advance(5000);
    await replicatedStep(deps, clock.now());
    assert.deepEqual(
      tasks(store)
        .filter((t) => t.Slot === 2)
        .map((t) => t.DesiredState)
        .sort(),
      ["running", "shutdown"],
    );
    const settled = await replicatedStep(deps, clock.now());
    assert.deepEqual(settled, {});
  });

  it("a unit aborts when its slot changed after the snapshot", async () => {
    const { store, clock, deps } = setup();
    const svc = makeService("web", { replicas: 1 });
    await store.update((tx) => tx.create("services", svc));
    const stale = unitsFor(svc, [], {
      create: [{ ID: "x", ServiceID: "web", Slot: 1, DesiredState: "running" }],
      update: [],
      delete: [],
    });
    await replicatedStep(deps, clock.now()); // slot 1 gets its task meanwhile
    const errors = await store.batch(stale);
    assert.match(String(errors[0]), /update out of sequence/);
    assert.equal(tasks(store).length, 1);
  });
});
