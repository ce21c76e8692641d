/**
 * The updater's failure handling, rollbacks, superseding updates and resumption from the store,
 * through the orchestrator's real step (testing.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServiceSpec, SwarmTask } from "../../../api/index.ts";
import { silentLogger } from "../../../base/index.ts";
import { orchestratorStep } from "../controller.ts";
import { envOf, World, webSpec, withEnv } from "./testing.ts";

const SVC = "svc1";
const SEC = 1e9;

const live = (w: World) =>
  w.tasks(SVC).filter((t) => t.Status?.State === "running" && t.DesiredState === "running");
const status = (w: World) => w.service(SVC).UpdateStatus ?? undefined;
const on = (w: World, env: string) => live(w).filter((t) => envOf(t).includes(env)).length;
const failsOn = (env: string) => (t: SwarmTask) => envOf(t).includes(env);

async function setup(replicas: number, update: ServiceSpec["UpdateConfig"] = {}): Promise<World> {
  const w = new World();
  await w.addNodes(1);
  const spec = webSpec(replicas, ["V=1"], update);
  await w.createService(SVC, { ...spec, RollbackConfig: { Parallelism: 0, Monitor: SEC } });
  await w.until("converged", () => live(w).length === replicas);
  return w;
}

const reach = (w: World, state: string) => w.until(`status ${state}`, () => status(w)?.State === state);

describe("rolling update: failures", () => {
  test("pause: the first failure pauses (ratio 0) with Swarm's message; no further slot is touched", async () => {
    const w = await setup(3);
    w.fails = failsOn("V=2");
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "paused");
    const failed = w.tasks(SVC).find((t) => t.Status?.State === "failed");
    assert.equal(
      status(w)?.Message,
      `update paused due to failure or early termination of task ${failed?.ID}`,
    );
    await w.run(50);
    assert.equal(status(w)?.State, "paused");
    assert.equal(on(w, "V=1"), 2, "the other two slots still run the old spec");
    const slots = new Set(
      w
        .tasks(SVC)
        .filter((t) => envOf(t).includes("V=2"))
        .map((t) => t.Slot),
    );
    assert.equal(slots.size, 1, "only one slot was dispatched");
  });

  test("a new update clears a pause and carries on", async () => {
    const w = await setup(3);
    w.fails = failsOn("V=2");
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "paused");
    w.fails = () => false;
    await w.updateService(SVC, withEnv(["V=3"]));
    await reach(w, "completed");
    assert.equal(on(w, "V=3"), 3);
  });

  test("continue: failures are ignored and the update completes", async () => {
    const w = await setup(3, { FailureAction: "continue" });
    w.fails = failsOn("V=2");
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "completed");
    const slots = new Set(
      w
        .tasks(SVC)
        .filter((t) => envOf(t).includes("V=2"))
        .map((t) => t.Slot),
    );
    assert.equal(slots.size, 3, "every slot was dispatched");
  });

  test("max failure ratio: failures up to the ratio are tolerated, the next one trips the action", async () => {
    const w = await setup(4, { MaxFailureRatio: 0.5 });
    const bad = new Set<number>([1, 2, 3]);
    w.fails = (t) => envOf(t).includes("V=2") && !!t.UpdateMonitor && bad.has(t.Slot ?? 0);
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "paused");
    // 1/4 and 2/4 are not above 0.5; the third failure (3/4) is.
    const failures = w.tasks(SVC).filter((t) => t.UpdateMonitor && t.Status?.State === "failed");
    assert.equal(failures.length, 3);
  });

  test("a task failing after its monitor window does not count", async () => {
    const w = await setup(2, { Monitor: SEC, Delay: 2 * SEC });
    await w.updateService(SVC, withEnv(["V=2"]));
    const first = () => w.tasks(SVC).find((t) => envOf(t).includes("V=2") && t.UpdateMonitor?.RunningAt);
    await w.until("the first new task running", () => !!first());
    const runningAt = Date.parse(first()?.UpdateMonitor?.RunningAt ?? "");
    await w.until("its monitor window over", () => w.now > runningAt + 1_200);
    assert.equal(status(w)?.State, "updating", "the update is still under way (inside the delay)");
    await w.store.update((tx) => {
      const t = first() as SwarmTask;
      const at = new Date(w.now).toISOString();
      tx.update("tasks", { ...t, Status: { ...t.Status, State: "failed", Timestamp: at } });
    });
    await reach(w, "completed");
  });
});

describe("rollback", () => {
  test("failure action rollback: rollback_started with the message, spec back, then rollback_completed", async () => {
    const w = await setup(3, { FailureAction: "rollback", Parallelism: 2 });
    w.fails = failsOn("V=2");
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "rollback_started");
    const failed = w.tasks(SVC).filter((t) => t.Status?.State === "failed");
    assert.match(
      status(w)?.Message ?? "",
      /^update rolled back due to failure or early termination of task /,
    );
    assert.ok(failed.some((t) => status(w)?.Message?.endsWith(t.ID)));
    const svc = w.service(SVC);
    assert.deepEqual(svc.Spec?.TaskTemplate?.ContainerSpec?.Env, ["V=1"]);
    assert.equal(svc.PreviousSpec, undefined);
    assert.equal(svc.SpecVersion?.Index, 1);
    await reach(w, "rollback_completed");
    assert.equal(status(w)?.Message, "rollback completed");
    assert.equal(on(w, "V=1"), 3);
  });

  test("a failing rollback pauses (rollback_paused) and is never rolled back again", async () => {
    const w = await setup(2, { FailureAction: "rollback" });
    w.fails = () => true; // from now on every start fails, old spec included
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "rollback_paused");
    assert.match(status(w)?.Message ?? "", /^update paused due to failure or early termination of task /);
    await w.run(50);
    assert.equal(status(w)?.State, "rollback_paused");
  });

  test("rollback config with failure action rollback: 'rollback paused …'", async () => {
    // The config of the spec being rolled back to counts: after the swap it is the current spec.
    const w = new World();
    await w.addNodes(1);
    const spec = webSpec(2, ["V=1"]);
    const rollback = { FailureAction: "rollback", Monitor: SEC } as unknown as ServiceSpec["RollbackConfig"];
    await w.createService(SVC, { ...spec, RollbackConfig: rollback });
    await w.until("converged", () => live(w).length === 2);
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "completed");
    w.fails = () => true;
    await w.updateService(SVC, (s) => s, true);
    await reach(w, "rollback_paused");
    assert.match(status(w)?.Message ?? "", /^rollback paused due to failure or early termination of task /);
  });

  test("manual rollback swaps the specs and rolls with RollbackConfig (parallelism 0: all at once)", async () => {
    const w = await setup(3);
    await w.updateService(SVC, withEnv(["V=2"]));
    await reach(w, "completed");
    await w.updateService(SVC, (s) => s, true);
    assert.equal(status(w)?.Message, "manually requested rollback");
    await reach(w, "rollback_completed");
    assert.equal(on(w, "V=1"), 3);
    assert.deepEqual(w.service(SVC).PreviousSpec?.TaskTemplate?.ContainerSpec?.Env, ["V=2"]);
  });
});

describe("supersede and resume", () => {
  test("a new update while one runs supersedes it: everything ends on the newest spec", async () => {
    const w = await setup(4);
    await w.updateService(SVC, withEnv(["V=2"]));
    await w.until("one slot on V=2", () => on(w, "V=2") >= 1);
    await w.updateService(SVC, withEnv(["V=3"]));
    await reach(w, "completed");
    assert.equal(on(w, "V=3"), 4);
    assert.equal(live(w).length, 4);
  });

  test("a new leader resumes mid-update from the store alone (no state outside it)", async () => {
    const w = await setup(3, { Delay: SEC });
    await w.updateService(SVC, withEnv(["V=2"]));
    await w.until("one slot on V=2", () => on(w, "V=2") === 1);
    // The same store, a fresh step with a different ID source: decisions come from the store only.
    const before = w.tasks(SVC).length;
    const deps = { store: w.store, clock: w.clock, ids: new World(99).ids, logger: silentLogger() };
    await orchestratorStep(deps, w.now);
    assert.equal(w.tasks(SVC).length, before, "inside the delay: nothing new");
    await reach(w, "completed");
    assert.equal(on(w, "V=2"), 3);
  });
});
