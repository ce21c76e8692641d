import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Node, SwarmService, SwarmTask, TaskSpec } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import { Plan } from "./plan.ts";
import {
  decideRestart,
  type RestartDecision,
  restartTask,
  shouldRestart,
  startDelayedTasks,
} from "./restart.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const SEC = 1000;
const NS = 1_000_000;

function svcWith(
  policy: TaskSpec["RestartPolicy"],
  mode: "replicated" | "replicated-job" = "replicated",
): SwarmService {
  return makeService("svc", { mode, template: { ContainerSpec: { Image: "x" }, RestartPolicy: policy } });
}

describe("shouldRestart", () => {
  const table: Array<{
    name: string;
    policy: TaskSpec["RestartPolicy"];
    state: "failed" | "complete";
    job?: boolean;
    want: boolean;
  }> = [
    { name: "default (any) restarts a failure", policy: undefined, state: "failed", want: true },
    { name: "any restarts a completed task", policy: { Condition: "any" }, state: "complete", want: true },
    { name: "none never restarts", policy: { Condition: "none" }, state: "failed", want: false },
    {
      name: "on-failure restarts a failure",
      policy: { Condition: "on-failure" },
      state: "failed",
      want: true,
    },
    {
      name: "on-failure leaves a completed task",
      policy: { Condition: "on-failure" },
      state: "complete",
      want: false,
    },
    {
      name: "jobs treat any as on-failure",
      policy: { Condition: "any" },
      state: "complete",
      job: true,
      want: false,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const svc = svcWith(c.policy, c.job ? "replicated-job" : "replicated");
      const t = makeTask("t1", svc, { slot: 1, state: c.state });
      assert.equal(shouldRestart(t, svc, [t]), c.want);
    });
  }

  it("MaxAttempts counts earlier restarts of the same spec in the slot", () => {
    const svc = svcWith({ MaxAttempts: 2 });
    const mk = (id: string, at: number) => makeTask(id, svc, { slot: 1, state: "failed", createdAt: at });
    const a = mk("a", T0);
    const b = mk("b", T0 + SEC);
    const c = mk("c", T0 + 2 * SEC);
    assert.equal(shouldRestart(a, svc, [a]), true);
    assert.equal(shouldRestart(b, svc, [a, b]), true);
    assert.equal(shouldRestart(c, svc, [a, b, c]), false);
    // A task of another spec (an earlier version) does not count.
    const old = makeTask("old", svc, {
      slot: 1,
      state: "failed",
      createdAt: T0 - SEC,
      spec: { ContainerSpec: { Image: "y" } },
    });
    assert.equal(shouldRestart(b, svc, [old, a, b]), true);
  });

  it("Window counts only restarts inside (failure − window, failure)", () => {
    const svc = svcWith({ MaxAttempts: 1, Window: 10 * SEC * NS });
    const a = makeTask("a", svc, { slot: 1, state: "failed", createdAt: T0 });
    const b = makeTask("b", svc, { slot: 1, state: "failed", createdAt: T0 + SEC, timestamp: T0 + 5 * SEC });
    assert.equal(shouldRestart(b, svc, [a, b]), false); // b itself was a restart 4 s before it failed
    const late = { ...b, Status: { ...b.Status, Timestamp: new Date(T0 + 30 * SEC).toISOString() } };
    assert.equal(shouldRestart(late, svc, [a, late]), true);
  });
});

function run(tasks: SwarmTask[], nodes: Node[], now: number, svc: SwarmService, victim: string) {
  const plan = new Plan(tasks, now);
  const nodeMap = new Map(nodes.map((n) => [n.ID, n]));
  restartTask({ plan, service: svc, nodes: nodeMap, ids: new SeededIds(7) }, plan.get(victim) as SwarmTask);
  startDelayedTasks(plan, nodeMap);
  return plan.decisions();
}

describe("restartTask and delayed start", () => {
  const svc = svcWith(undefined);

  it("a failed task: shut down, replacement held at READY for the delay, no wait", () => {
    const failed = makeTask("t1", svc, { slot: 3, node: "n1", state: "failed" });
    const d = run([failed], [makeNode("n1")], T0, svc, "t1");
    assert.deepEqual(
      d.update.map((t) => [t.ID, t.DesiredState]),
      [["t1", "shutdown"]],
    );
    const [r] = d.create;
    assert.equal(r?.Slot, 3);
    assert.equal(r?.DesiredState, "ready");
    assert.equal(r?.Status?.State, "new");
    assert.deepEqual(r?.DelayedStart, { NotBefore: new Date(T0 + 5 * SEC).toISOString() });
    assert.equal(d.wakeAt, T0 + 5 * SEC);
  });

  it("a running task on a down node: no wait for the old one", () => {
    const t = makeTask("t1", svc, { slot: 1, node: "n1", state: "running" });
    const d = run([t], [makeNode("n1", { state: "down" })], T0, svc, "t1");
    assert.equal(d.create[0]?.DelayedStart?.WaitForTask, undefined);
  });

  it("a running task on a drained node: no delay, but wait for it to stop (≤ 1 min)", () => {
    const t = makeTask("t1", svc, { slot: 1, node: "n1", state: "running" });
    const d = run([t], [makeNode("n1", { availability: "drain" })], T0, svc, "t1");
    assert.deepEqual(d.create[0]?.DelayedStart, {
      NotBefore: new Date(T0).toISOString(),
      WaitForTask: "t1",
      Deadline: new Date(T0 + 60 * SEC).toISOString(),
    });
    assert.equal(d.create[0]?.DesiredState, "ready");
    assert.equal(d.wakeAt, T0 + 60 * SEC);
  });

  const held = (extra: Partial<SwarmTask> = {}): SwarmTask => ({
    ...makeTask("new", svc, { slot: 1, state: "ready", node: "n2" }),
    DesiredState: "ready",
    DelayedStart: {
      NotBefore: new Date(T0 + 5 * SEC).toISOString(),
      WaitForTask: "old",
      Deadline: new Date(T0 + 60 * SEC).toISOString(),
    },
    ...extra,
  });
  const nodes = [makeNode("n1"), makeNode("n2")];
  const table: Array<{
    name: string;
    now: number;
    old?: SwarmTask;
    nodes?: Node[];
    want: string;
    wake?: number;
  }> = [
    {
      name: "before the delay",
      now: T0 + SEC,
      old: makeTask("old", svc, { slot: 1, node: "n1", state: "failed" }),
      want: "ready",
      wake: T0 + 5 * SEC,
    },
    {
      name: "after the delay, old stopped",
      now: T0 + 5 * SEC,
      old: makeTask("old", svc, { slot: 1, node: "n1", state: "shutdown" }),
      want: "running",
    },
    {
      name: "after the delay, old still running",
      now: T0 + 6 * SEC,
      old: makeTask("old", svc, { slot: 1, node: "n1", desired: "shutdown" }),
      want: "ready",
      wake: T0 + 60 * SEC,
    },
    {
      name: "old still running but its node is down",
      now: T0 + 6 * SEC,
      old: makeTask("old", svc, { slot: 1, node: "n1", desired: "shutdown" }),
      nodes: [makeNode("n1", { state: "down" })],
      want: "running",
    },
    {
      name: "old still running past the deadline",
      now: T0 + 60 * SEC,
      old: makeTask("old", svc, { slot: 1, node: "n1", desired: "shutdown" }),
      want: "running",
    },
    { name: "old deleted", now: T0 + 6 * SEC, want: "running" },
  ];
  for (const c of table) {
    it(`held task: ${c.name}`, () => {
      const plan = new Plan([held(), ...(c.old ? [c.old] : [])], c.now);
      startDelayedTasks(plan, new Map((c.nodes ?? nodes).map((n) => [n.ID, n])));
      assert.equal(plan.get("new")?.DesiredState, c.want);
      assert.equal(plan.decisions().wakeAt, c.wake);
    });
  }

  it("held job tasks start at desired COMPLETE", () => {
    const plan = new Plan(
      [held({ JobIteration: { Index: 4 }, DelayedStart: { NotBefore: new Date(T0).toISOString() } })],
      T0,
    );
    startDelayedTasks(plan, new Map());
    assert.equal(plan.get("new")?.DesiredState, "complete");
  });

  it("a held task that fails is restarted only after its own delay", () => {
    const t = held({ Status: { State: "rejected", Timestamp: new Date(T0).toISOString() } });
    const early = run([t], nodes, T0 + SEC, svc, "new");
    assert.deepEqual(early.create, []);
    assert.equal(early.wakeAt, T0 + 5 * SEC);
    const later = run([t], nodes, T0 + 5 * SEC, svc, "new");
    assert.equal(later.create.length, 1);
    assert.equal(later.update[0]?.DesiredState, "shutdown");
  });
});

describe("decideRestart", () => {
  const svc = svcWith(undefined);
  const onceOnly = svcWith({ MaxAttempts: 1 });
  const failed = makeTask("t", svc, { slot: 1, node: "n1", state: "failed" });
  const running = makeTask("t", svc, { slot: 1, node: "n1" });
  const table: Array<{
    name: string;
    task: SwarmTask;
    service?: SwarmService;
    slot?: SwarmTask[];
    node?: Node;
    heldUntil?: number;
    want: RestartDecision;
  }> = [
    {
      name: "failed: replace after the delay",
      task: failed,
      node: makeNode("n1"),
      want: { action: "replace", notBefore: T0 + 5 * SEC },
    },
    {
      name: "running on a drained node: no delay, wait for it",
      task: running,
      node: makeNode("n1", { availability: "drain" }),
      want: { action: "replace", notBefore: T0, waitForTask: "t", deadline: T0 + 60 * SEC },
    },
    {
      name: "running on a down node: delay, no wait",
      task: running,
      node: makeNode("n1", { state: "down" }),
      want: { action: "replace", notBefore: T0 + 5 * SEC },
    },
    {
      name: "node deleted: delay, wait (the timeout ends it)",
      task: running,
      want: { action: "replace", notBefore: T0 + 5 * SEC, waitForTask: "t", deadline: T0 + 60 * SEC },
    },
    {
      name: "still in its own delay",
      task: failed,
      heldUntil: T0 + 2 * SEC,
      want: { action: "later", at: T0 + 2 * SEC },
    },
    { name: "already shut down", task: { ...failed, DesiredState: "shutdown" }, want: { action: "none" } },
    {
      name: "policy says no (the task's own policy)",
      task: makeTask("t", svcWith({ Condition: "none" }), { slot: 1, node: "n1", state: "failed" }),
      want: { action: "shutdown" },
    },
    {
      name: "MaxAttempts used up",
      task: makeTask("b", onceOnly, { slot: 1, state: "failed", createdAt: T0 }),
      service: onceOnly,
      slot: [
        makeTask("a", onceOnly, { slot: 1, state: "failed", desired: "shutdown", createdAt: T0 - SEC }),
        makeTask("b", onceOnly, { slot: 1, state: "failed", createdAt: T0 }),
      ],
      want: { action: "shutdown" },
    },
    {
      name: "slot already has a replacement",
      task: failed,
      slot: [failed, { ...makeTask("r", svc, { slot: 1, state: "new" }), DesiredState: "ready" }],
      want: { action: "shutdown" },
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const got = decideRestart({
        task: c.task,
        service: c.service ?? svc,
        slot: c.slot ?? [c.task],
        now: T0,
        ...(c.node ? { node: c.node } : {}),
        ...(c.heldUntil !== undefined ? { heldUntil: c.heldUntil } : {}),
      });
      assert.deepEqual(got, c.want);
    });
  }
});
