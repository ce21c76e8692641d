/**
 * The updater through the orchestrator's real step over a MemoryStore, driven tick by tick by a toy
 * agent under a virtual clock (testing.ts): every UpdateConfig option, failure actions, rollback,
 * supersede and resumption from the store alone.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServiceSpec, SwarmTask } from "../../../api/index.ts";
import { parseTime } from "../../common/index.ts";
import { envOf, World, webSpec, withEnv } from "./testing.ts";

const SVC = "svc1";
const SEC = 1e9;

const live = (w: World) =>
  w.tasks(SVC).filter((t) => t.Status?.State === "running" && t.DesiredState === "running");
const runningNow = (w: World) => w.tasks(SVC).filter((t) => t.Status?.State === "running").length;
const status = (w: World) => w.service(SVC).UpdateStatus ?? undefined;
const allOn = (w: World, env: string, n: number) =>
  live(w).length === n && live(w).every((t) => envOf(t).includes(env));
/** New tasks of the rollout that do not run yet (desired READY or RUNNING). */
const pendingNew = (w: World, env: string) =>
  w
    .tasks(SVC)
    .filter(
      (t) =>
        t.UpdateMonitor &&
        envOf(t).includes(env) &&
        t.Status?.State !== "running" &&
        ["ready", "running"].includes(t.DesiredState ?? ""),
    ).length;
const createdAt = (t: SwarmTask) => parseTime(t.CreatedAt) ?? 0;

async function setup(replicas: number, update: ServiceSpec["UpdateConfig"] = {}, nodes = 1): Promise<World> {
  const w = new World();
  await w.addNodes(nodes);
  await w.createService(SVC, webSpec(replicas, ["V=1"], update));
  await w.until("converged", () => live(w).length === replicas);
  return w;
}

/** Updates to V=2 and runs until the status is `state`; returns the most seen `pendingNew`. */
async function rollTo(w: World, state: string, change = withEnv(["V=2"])): Promise<number> {
  let most = 0;
  w.observe = () => {
    most = Math.max(most, pendingNew(w, "V=2"));
  };
  await w.updateService(SVC, change);
  await w.until(`status ${state}`, () => status(w)?.State === state);
  return most;
}

describe("rolling update: batches", () => {
  for (const [parallelism, expected] of [
    [1, 1],
    [2, 2],
    [0, 4],
  ] as const) {
    test(`parallelism ${parallelism}: at most ${expected} slots replaced at once; every slot rolls`, async () => {
      const w = await setup(4, { Parallelism: parallelism });
      const most = await rollTo(w, "completed");
      assert.equal(most, expected);
      assert.ok(allOn(w, "V=2", 4));
      const s = status(w);
      assert.equal(s?.Message, "update completed");
      assert.ok(s?.StartedAt && s.CompletedAt && s.StartedAt < s.CompletedAt);
    });
  }

  test("status: updating / 'update in progress' while it runs, StartedAt kept when completed", async () => {
    const w = await setup(2);
    await w.updateService(SVC, withEnv(["V=2"]));
    await w.run(2);
    assert.deepEqual(
      { State: status(w)?.State, Message: status(w)?.Message },
      { State: "updating", Message: "update in progress" },
    );
    const startedAt = status(w)?.StartedAt;
    await w.until("completed", () => status(w)?.State === "completed");
    assert.equal(status(w)?.StartedAt, startedAt);
  });

  test("stop-first: the new task waits at desired READY until the old one has stopped", async () => {
    const w = await setup(1);
    w.moves = (t) => t.DesiredState !== "shutdown"; // old tasks do not stop yet
    await w.updateService(SVC, withEnv(["V=2"]));
    await w.run(5);
    const fresh = w.tasks(SVC).find((t) => envOf(t).includes("V=2"));
    assert.equal(fresh?.DesiredState, "ready");
    assert.equal(fresh?.Status?.State, "ready");
    w.moves = () => true;
    await w.until("completed", () => status(w)?.State === "completed");
    assert.ok(allOn(w, "V=2", 1));
  });

  test("delay: the next slot starts Delay after the previous new task is running", async () => {
    const w = await setup(3, { Delay: 2 * SEC, Monitor: 1 * SEC });
    await rollTo(w, "completed");
    const fresh = w
      .tasks(SVC)
      .filter((t) => envOf(t).includes("V=2"))
      .sort((a, b) => createdAt(a) - createdAt(b));
    assert.equal(fresh.length, 3);
    for (let i = 1; i < fresh.length; i++) {
      const prevRunning = parseTime(fresh[i - 1]?.UpdateMonitor?.RunningAt) ?? 0;
      assert.ok(createdAt(fresh[i] as SwarmTask) >= prevRunning + 2000, `slot ${i} waited for the delay`);
    }
    // delay ≥ monitor: the final watch is delay + 1 s after the last worker's delay.
    const lastRunning = parseTime(fresh.at(-1)?.UpdateMonitor?.RunningAt) ?? 0;
    assert.ok((parseTime(status(w)?.CompletedAt) ?? 0) >= lastRunning + 2000 + 3000);
  });

  test("monitor: completed only a monitor period after the last new task runs", async () => {
    const w = await setup(2, { Monitor: 3 * SEC });
    await rollTo(w, "completed");
    const last = Math.max(...live(w).map((t) => parseTime(t.UpdateMonitor?.RunningAt) ?? 0));
    const completed = parseTime(status(w)?.CompletedAt) ?? 0;
    assert.ok(completed >= last + 3000 && completed < last + 3500, `${completed - last} ms`);
  });

  test("start-first: the new task runs beside the old one, which stops only then", async () => {
    const w = await setup(3, { Order: "start-first", Parallelism: 1 });
    let fewest = 3;
    let most = 0;
    await w.updateService(SVC, withEnv(["V=2"]));
    w.observe = () => {
      fewest = Math.min(fewest, runningNow(w));
      most = Math.max(most, runningNow(w));
    };
    await w.until("completed", () => status(w)?.State === "completed");
    assert.equal(fewest, 3);
    assert.equal(most, 4);
    assert.ok(allOn(w, "V=2", 3));
  });

  test("force: a ForceUpdate bump makes every task dirty", async () => {
    const w = await setup(2);
    const before = live(w).map((t) => t.ID);
    await rollTo(w, "completed", (s) => ({ ...s, TaskTemplate: { ...s.TaskTemplate, ForceUpdate: 1 } }));
    assert.equal(live(w).length, 2);
    assert.ok(live(w).every((t) => !before.includes(t.ID)));
  });

  test("a global service updates node by node", async () => {
    const w = new World();
    await w.addNodes(3);
    await w.createService(SVC, { ...webSpec(0, ["V=1"]), Mode: { Global: {} } });
    await w.until("3 running", () => live(w).length === 3);
    const most = await rollTo(w, "completed");
    assert.equal(most, 1);
    assert.ok(allOn(w, "V=2", 3));
    assert.deepEqual(
      live(w)
        .map((t) => t.NodeID)
        .sort(),
      ["node1", "node2", "node3"],
    );
  });

  test("no dirty task: a spec change that only scales never starts an update", async () => {
    const w = await setup(2);
    await w.updateService(SVC, (s) => ({ ...s, Mode: { Replicated: { Replicas: 3 } } }));
    await w.until("3 running", () => live(w).length === 3);
    await w.run(20);
    assert.equal(status(w), undefined);
  });
});
