import assert from "node:assert/strict";
import { test } from "node:test";
import type { SwarmTask, TaskStateName } from "../../api/index.ts";
import { silentLogger, VirtualClock } from "../../base/index.ts";
import { FAKE_ENV, FakeEngine, FakeExecutor, settle } from "./fake.ts";
import type { TaskStatus } from "./types.ts";

function task(id: string, slot: number, desired: TaskStateName = "running", env: string[] = []): SwarmTask {
  return {
    ID: id,
    ServiceID: "s1",
    NodeID: "n1",
    Slot: slot,
    DesiredState: desired,
    Status: { State: "assigned" },
    ServiceAnnotations: { Name: "web" },
    Spec: { ContainerSpec: { Image: "busybox:local", Env: env } },
  };
}

function setup(engine?: FakeEngine, clock = new VirtualClock()) {
  const statuses = new Map<string, TaskStatus[]>();
  const executor = new FakeExecutor({
    engine,
    clock,
    nodeId: "n1",
    logger: silentLogger(),
    onStatus: (id, s) => statuses.set(id, [...(statuses.get(id) ?? []), s]),
  });
  const last = (id: string) => statuses.get(id)?.at(-1);
  return { executor, engine: executor.engine, statuses, last, clock };
}

test("assign runs the set; a task left out is stopped and its container removed", async () => {
  const { executor, engine, last } = setup();
  await executor.assign([task("t1", 1), task("t2", 2)]);
  await settle();
  assert.equal(last("t1")?.State, "running");
  assert.equal(last("t2")?.State, "running");
  assert.deepEqual(executor.taskIds().sort(), ["t1", "t2"]);
  await executor.assign([task("t1", 1)]);
  await settle();
  assert.equal(engine.container("web.2.t2"), undefined);
  assert.equal(engine.container("web.1.t1")?.state, "running");
  await executor.stop();
});

test("desired shutdown through assign; events reach the right runner", async () => {
  const { executor, engine, last } = setup();
  await executor.assign([task("t1", 1), task("t2", 2)]);
  await settle();
  engine.crash("web.2.t2", 1);
  await settle();
  assert.equal(last("t2")?.State, "failed");
  assert.equal(last("t1")?.State, "running");
  await executor.assign([task("t1", 1, "shutdown"), task("t2", 2)]);
  await settle();
  assert.equal(last("t1")?.State, "shutdown");
  assert.equal(engine.container("web.1.t1")?.state, "exited"); // kept until the task is removed
  await executor.stop();
});

test("adopt: a restarted executor attaches to running containers without restarting them", async () => {
  const clock = new VirtualClock();
  const first = setup(undefined, clock);
  await first.executor.assign([task("t1", 1), task("t2", 2)]);
  await settle();
  const id = first.engine.container("web.1.t1")?.id;
  const reported = first.last("t1");
  assert.equal(reported?.State, "running");
  await first.executor.stop();
  assert.equal(first.engine.container("web.1.t1")?.state, "running");

  const second = setup(first.engine, clock);
  const found = await second.executor.adopt();
  assert.deepEqual(found.map((c) => c.taskId).sort(), ["t1", "t2"]);
  const callsBefore = first.engine.calls.length;
  // the manager still has t1 (as last reported); t2 was deleted meanwhile
  await second.executor.assign([{ ...task("t1", 1), Status: reported }]);
  await settle();
  const newCalls = first.engine.calls.slice(callsBefore);
  assert.ok(!newCalls.some((c) => c.startsWith("start ") || c.startsWith("create ")), newCalls.join(","));
  assert.equal(second.engine.container("web.1.t1")?.id, id);
  assert.equal(second.statuses.get("t1"), undefined, "no new status: it was running and still is");
  assert.equal(second.engine.container("web.2.t2"), undefined, "the orphan was removed");
  await second.executor.stop();
});

test("behaviour from the SHOAL_FAKE env: run, exit, complete", async () => {
  const { executor, last, clock } = setup();
  await executor.assign([task("t1", 1, "running", [`${FAKE_ENV}={"runMs":2000,"exitCode":0}`])]);
  await settle();
  assert.equal(last("t1")?.State, "running");
  clock.advance(2000);
  await settle();
  assert.equal(last("t1")?.State, "complete");
  await executor.stop();
});

test("describeNode reports the engine's description; logs come from the container", async () => {
  const { executor } = setup(
    new FakeEngine({ clock: new VirtualClock(), behaviour: () => ({ logs: ["hello"] }) }),
  );
  const d = await executor.describeNode();
  assert.equal(d.Hostname, "fake-node");
  assert.equal(d.Platform?.OS, "linux");
  await executor.assign([task("t1", 1)]);
  await settle();
  const lines: string[] = [];
  for await (const l of executor.logs("t1", { stdout: true })) lines.push(l.line.toString());
  assert.deepEqual(lines, ["hello\n"]);
  await executor.stop();
});

test("a broken event stream is re-subscribed and nothing missed goes unnoticed", async () => {
  const { executor, engine, last, clock } = setup();
  await executor.assign([task("t1", 1), task("t2", 2)]);
  await settle();
  engine.breakEventStreams();
  await settle();
  engine.crash("web.1.t1", 2); // no one is listening: the die event is lost
  await settle();
  assert.equal(last("t1")?.State, "running");
  clock.advance(1000); // re-subscribed: every runner re-inspects
  await settle();
  assert.equal(last("t1")?.State, "failed");
  assert.equal(last("t1")?.Err, "task: non-zero exit (2)");
  engine.crash("web.2.t2", 3);
  await settle();
  assert.equal(last("t2")?.Err, "task: non-zero exit (3)");
  await executor.stop();
});
