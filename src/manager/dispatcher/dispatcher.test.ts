import assert from "node:assert/strict";
import { test } from "node:test";
import type { AssignmentMessage, Node, Task } from "../../api/index.ts";
import { SeededIds, silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import { Dispatcher } from "./dispatcher.ts";

const node = (id: string): Node => ({
  ID: id,
  Spec: { Role: "worker", Availability: "active" },
  Status: { State: "unknown" },
});
const task = (id: string, nodeId: string, state: NonNullable<Task["Status"]>["State"]): Task => ({
  ID: id,
  ServiceID: "svc",
  NodeID: nodeId,
  Slot: 1,
  DesiredState: "running",
  Status: { State: state, Timestamp: "2026-01-01T00:00:00Z" },
  Spec: { ContainerSpec: { Image: "busybox:local" } },
});

async function setup() {
  const store = new MemoryStore();
  const clock = new VirtualClock();
  await store.update((tx) => {
    tx.create("nodes", node("n1"));
    tx.create("tasks", task("t1", "n1", "assigned"));
    tx.create("tasks", task("t2", "n1", "pending"));
    tx.create("tasks", task("t3", "n2", "assigned"));
  });
  const dispatcher = new Dispatcher({ store, clock, ids: new SeededIds(1), logger: silentLogger() });
  return { store, clock, dispatcher };
}

const flushMicrotasks = () => new Promise((r) => setImmediate(r));

test("a session gets its node's assigned tasks, then increments", async () => {
  const { store, dispatcher } = await setup();
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "ready");
  const it = session.assignments()[Symbol.asyncIterator]();
  const first = (await it.next()).value as AssignmentMessage;
  assert.equal(first.kind, "complete");
  assert.deepEqual(
    first.tasks.map((t) => t.ID),
    ["t1"],
  );
  const next = it.next();
  await store.update((tx) => {
    const t2 = tx.get("tasks", "t2")!;
    tx.update("tasks", { ...t2, Status: { ...t2.Status, State: "assigned" } });
  });
  const inc = (await next).value as AssignmentMessage;
  assert.equal(inc.kind, "incremental");
  assert.deepEqual(
    inc.tasks.map((t) => t.ID),
    ["t2"],
  );
  const removal = it.next();
  await store.update((tx) => tx.delete("tasks", "t1"));
  assert.deepEqual(((await removal).value as AssignmentMessage).removed, ["t1"]);
  session.close();
  await dispatcher.stop();
});

test("status reports are batched into the store and never move a task backwards", async () => {
  const { store, clock, dispatcher } = await setup();
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  await session.updateTaskStatus([
    { taskId: "t1", status: { State: "running", Message: "started" } },
    { taskId: "t3", status: { State: "running", Message: "not mine" } },
  ]);
  clock.advance(100);
  await dispatcher.stop();
  assert.equal(store.view((tx) => tx.get("tasks", "t1"))?.Status?.State, "running");
  assert.equal(store.view((tx) => tx.get("tasks", "t3"))?.Status?.State, "assigned");
  const d2 = new Dispatcher({ store, clock, ids: new SeededIds(2), logger: silentLogger() });
  const s2 = await d2.openSession("n1", { Hostname: "h1" });
  await s2.updateTaskStatus([{ taskId: "t1", status: { State: "starting" } }]);
  clock.advance(100);
  await d2.stop();
  assert.equal(store.view((tx) => tx.get("tasks", "t1"))?.Status?.State, "running");
});

test("a node without heartbeats is marked down after the grace period", async () => {
  const { store, clock, dispatcher } = await setup();
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  clock.advance(10_000);
  assert.equal(await session.heartbeat(), 5000);
  clock.advance(14_999);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "ready");
  clock.advance(1);
  await flushMicrotasks();
  const n1 = store.view((tx) => tx.get("nodes", "n1"));
  assert.equal(n1?.Status?.State, "down");
  assert.equal(n1?.Status?.Message, "heartbeat failure");
  await assert.rejects(session.heartbeat(), /register again/);
  await dispatcher.stop();
});

test("the cluster's Dispatcher.HeartbeatPeriod sets the period agents are told and the grace", async () => {
  const { store, clock, dispatcher } = await setup();
  const setPeriod = (ns: number) =>
    store.update((tx) => {
      const c = tx.list("clusters")[0];
      if (c) tx.update("clusters", { ...c, Spec: { ...c.Spec, Dispatcher: { HeartbeatPeriod: ns } } });
      else
        tx.create("clusters", { ID: "c1", Spec: { Name: "default", Dispatcher: { HeartbeatPeriod: ns } } });
    });
  await setPeriod(1_000_000_000);
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  assert.equal(session.info.heartbeatPeriodMs, 1000);
  assert.equal(await session.heartbeat(), 1000);
  clock.advance(2999);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "ready");
  // A change reaches the agent with its next heartbeat.
  await setPeriod(2_000_000_000);
  assert.equal(await session.heartbeat(), 2000);
  clock.advance(5999);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "ready");
  clock.advance(1);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "down");
  await dispatcher.stop();
});

test("an unknown node cannot open a session", async () => {
  const { dispatcher } = await setup();
  await assert.rejects(dispatcher.openSession("nope", {}), /node nope not found/);
});

test("a session closed before its first heartbeat does not mark the node down; a used one does", async () => {
  const { store, clock, dispatcher } = await setup();
  // The agent gave up waiting for this session and holds one on another manager.
  const abandoned = await dispatcher.openSession("n1", { Hostname: "h1" });
  abandoned.close();
  clock.advance(60_000);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "ready");
  const used = await dispatcher.openSession("n1", { Hostname: "h1" });
  await used.heartbeat();
  used.close();
  clock.advance(15_000);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "down");
  await dispatcher.stop();
});

test("a node marked down elsewhere is ready again at its live session's next heartbeat", async () => {
  const { store, dispatcher } = await setup();
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  await session.heartbeat();
  // The leader marked this manager down while it was cut off from the others.
  const markDown = () =>
    store.update((tx) => {
      const n = tx.get("nodes", "n1");
      if (n) tx.update("nodes", { ...n, Status: { State: "down", Message: "manager unreachable" } });
    });
  await markDown();
  // The store takes no writes yet (no quorum): the heartbeat still answers, the node stays down.
  const update = store.update.bind(store);
  store.update = () => Promise.reject(new Error("etcdserver: no leader"));
  assert.equal(await session.heartbeat(), 5000);
  await flushMicrotasks();
  assert.equal(store.view((tx) => tx.get("nodes", "n1"))?.Status?.State, "down");
  store.update = update;
  await session.heartbeat();
  await flushMicrotasks();
  assert.deepEqual(store.view((tx) => tx.get("nodes", "n1"))?.Status, { State: "ready", Message: "" });
  await dispatcher.stop();
});
