/**
 * `rollingUpdate` called directly: the exact decisions of one pass for a given store state.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServiceSpec, SwarmService, SwarmTask, UpdateStatus } from "../../../api/index.ts";
import { SeededIds } from "../../../base/index.ts";
import { makeNode, makeService, makeTask } from "../../common/fixtures.ts";
import { isoTime } from "../../common/index.ts";
import { rollingUpdate } from "./updater.ts";

const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 60_000;
const nodes = new Map([["n1", makeNode("n1")]]);

function service(update: ServiceSpec["UpdateConfig"], status?: UpdateStatus): SwarmService {
  const s = makeService("s1", {
    replicas: 3,
    template: { ContainerSpec: { Image: "busybox", Env: ["V=2"] } },
  });
  return {
    ...s,
    SpecVersion: { Index: 2 },
    Spec: { ...s.Spec, UpdateConfig: update },
    PreviousSpec: { ...s.Spec, TaskTemplate: { ContainerSpec: { Image: "busybox", Env: ["V=1"] } } },
    ...(status ? { UpdateStatus: status } : {}),
  };
}

const oldSpec = { ContainerSpec: { Image: "busybox", Env: ["V=1"] } };
const oldTasks = (s: SwarmService) =>
  [1, 2, 3].map((slot) => ({
    ...makeTask(`old${slot}`, s, { slot, node: "n1", spec: oldSpec, createdAt: T0 }),
    SpecVersion: { Index: 1 },
  }));
const updating: UpdateStatus = {
  State: "updating",
  Message: "update in progress",
  StartedAt: isoTime(T0 + 1000),
};

function pass(s: SwarmService, tasks: SwarmTask[], now = NOW) {
  const slots = [...new Set(tasks.map((t) => t.Slot))].map((n) =>
    tasks.filter((t) => t.Slot === n && (t.DesiredState === "running" || t.DesiredState === "ready")),
  );
  return rollingUpdate({ service: s, slots, tasks, nodes, now, ids: new SeededIds(7) });
}

describe("rollingUpdate, one pass", () => {
  test("no status and dirty slots: only the start is written", () => {
    const s = service({ Parallelism: 1 });
    const d = pass(s, oldTasks(s));
    assert.deepEqual([d.create, d.update, d.delete], [[], [], []]);
    assert.deepEqual(d.service?.updateStatus, {
      State: "updating",
      Message: "update in progress",
      StartedAt: isoTime(NOW),
    });
  });

  test("no status and nothing dirty: nothing at all", () => {
    const s = service({ Parallelism: 1 });
    const clean = [1, 2, 3].map((slot) => ({
      ...makeTask(`t${slot}`, s, { slot }),
      SpecVersion: { Index: 2 },
    }));
    assert.deepEqual(pass(s, clean), { create: [], update: [], delete: [] });
  });

  test("stop-first: old task to SHUTDOWN, new one held at READY waiting for it", () => {
    const s = service({ Parallelism: 1, Order: "stop-first" }, updating);
    const d = pass(s, oldTasks(s));
    assert.equal(d.create.length, 1);
    const [fresh] = d.create;
    assert.equal(fresh?.Slot, 1);
    assert.equal(fresh?.DesiredState, "ready");
    assert.deepEqual(fresh?.UpdateMonitor, {});
    assert.deepEqual(fresh?.DelayedStart, {
      NotBefore: isoTime(NOW),
      WaitForTask: "old1",
      Deadline: isoTime(NOW + 60_000),
    });
    assert.deepEqual(
      d.update.map((t) => [t.ID, t.DesiredState]),
      [["old1", "shutdown"]],
    );
  });

  test("start-first: the new task runs at once and the old one is left running", () => {
    const s = service({ Parallelism: 2, Order: "start-first" }, updating);
    const d = pass(s, oldTasks(s));
    assert.deepEqual(
      d.create.map((t) => [t.Slot, t.DesiredState]),
      [
        [1, "running"],
        [2, "running"],
      ],
    );
    assert.deepEqual(d.update, []);
  });

  test("parallelism 0 takes every dirty slot at once", () => {
    const s = service({ Parallelism: 0 }, updating);
    assert.equal(pass(s, oldTasks(s)).create.length, 3);
  });

  test("paused and rollback_paused: no decisions", () => {
    for (const State of ["paused", "rollback_paused"] as const) {
      const s = service({ Parallelism: 1 }, { ...updating, State });
      assert.deepEqual(pass(s, oldTasks(s)), { create: [], update: [], delete: [] });
    }
  });

  test("a busy worker (new task not running yet) blocks the next slot; RUNNING is stamped", () => {
    const s = service({ Parallelism: 1, Delay: 5e9 }, updating);
    const tasks = oldTasks(s);
    const fresh = {
      ...makeTask("new1", s, { slot: 1, node: "n1", state: "starting", createdAt: T0 + 2000 }),
      UpdateMonitor: {},
    };
    const stopped = {
      ...(tasks[0] as SwarmTask),
      DesiredState: "shutdown" as const,
      Status: { State: "shutdown" as const },
    };
    assert.equal(pass(s, [stopped, fresh, ...tasks.slice(1)]).create.length, 0);
    // Running since NOW - 1 s: inside the 5 s delay, still busy; the stamp is written; wake at the delay's end.
    const running = { ...fresh, Status: { State: "running" as const, Timestamp: isoTime(NOW - 1000) } };
    const d = pass(s, [stopped, running, ...tasks.slice(1)]);
    assert.equal(d.create.length, 0);
    assert.deepEqual(
      d.update.map((t) => t.UpdateMonitor),
      [{ RunningAt: isoTime(NOW - 1000) }],
    );
    assert.equal(d.wakeAt, NOW + 4000);
  });

  test("completion waits for the monitor period after the last task reached RUNNING", () => {
    const s = service({ Parallelism: 0, Monitor: 3e9 }, updating);
    const done = [1, 2, 3].map((slot) => ({
      ...makeTask(`n${slot}`, s, { slot, node: "n1", createdAt: T0 + 2000 }),
      SpecVersion: { Index: 2 },
      UpdateMonitor: { RunningAt: isoTime(NOW - 1000) },
    }));
    assert.equal(pass(s, done).wakeAt, NOW + 2000);
    const d = pass(s, done, NOW + 2000);
    assert.deepEqual(d.service?.updateStatus, {
      ...updating,
      State: "completed",
      Message: "update completed",
      CompletedAt: isoTime(NOW + 2000),
    });
  });

  test("rollback_started rolls with RollbackConfig and completes as rollback_completed", () => {
    const s = service(
      { Parallelism: 1 },
      { ...updating, State: "rollback_started", Message: "manually requested rollback" },
    );
    s.Spec = { ...s.Spec, RollbackConfig: { Parallelism: 0 } };
    assert.equal(pass(s, oldTasks(s)).create.length, 3);
    const clean = [1, 2, 3].map((slot) => ({
      ...makeTask(`t${slot}`, s, { slot }),
      SpecVersion: { Index: 2 },
    }));
    assert.equal(pass(s, clean).service?.updateStatus.State, "rollback_completed");
  });

  test("failure action rollback: the spec swap is asked for, with Swarm's message", () => {
    const s = service({ Parallelism: 1, FailureAction: "rollback" }, updating);
    const failed = {
      ...makeTask("bad1", s, { slot: 1, node: "n1", state: "failed", createdAt: T0 + 2000 }),
      UpdateMonitor: {},
      DesiredState: "shutdown" as const,
    };
    const d = pass(s, [failed, ...oldTasks(s).slice(1)]);
    assert.equal(d.service?.rollback, true);
    assert.deepEqual(d.service?.updateStatus, {
      ...updating,
      State: "rollback_started",
      Message: "update rolled back due to failure or early termination of task bad1",
    });
  });
});
