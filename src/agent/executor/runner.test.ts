import assert from "node:assert/strict";
import { test } from "node:test";
import type { SwarmTask, TaskStateName } from "../../api/index.ts";
import { silentLogger, VirtualClock } from "../../base/index.ts";
import { type FakeBehaviour, FakeEngine, type FakeEngineOptions, settle } from "./fake.ts";
import { TaskRunner } from "./runner.ts";
import type { ContainerSpec } from "./spec.ts";
import type { TaskStatus } from "./types.ts";

function task(spec: ContainerSpec = {}, desired: TaskStateName = "running"): SwarmTask {
  return {
    ID: "t1",
    ServiceID: "s1",
    NodeID: "n1",
    Slot: 1,
    DesiredState: desired,
    Status: { State: "assigned" },
    ServiceAnnotations: { Name: "web" },
    Spec: { ContainerSpec: { Image: "busybox:local", ...spec } },
  };
}

const HEALTH = { Healthcheck: { Test: ["CMD-SHELL", "true"], Interval: 1e9 } };

function setup(
  spec: ContainerSpec,
  behaviour: FakeBehaviour = {},
  engineOpts: Partial<FakeEngineOptions> = {},
) {
  const clock = new VirtualClock();
  const engine = new FakeEngine({ clock, behaviour: () => behaviour, ...engineOpts });
  const seen: TaskStatus[] = [];
  const runner = new TaskRunner({
    task: task(spec),
    env: { service: { ID: "s1", Name: "web" }, node: { ID: "n1", Hostname: "h" } },
    engine,
    clock,
    logger: silentLogger(),
    onStatus: (_id, s) => seen.push(s),
  });
  engine.subscribeEvents(
    (e) => runner.notify(e),
    () => undefined,
  );
  const advance = async (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  const states = () => seen.map((s) => s.State);
  return { clock, engine, runner, seen, advance, states };
}

test("a plain task runs to running, then complete when it exits 0", async () => {
  const { runner, advance, states, seen } = setup({}, { runMs: 1000 });
  void runner.start();
  await settle();
  assert.deepEqual(states(), ["accepted", "preparing", "ready", "starting", "running"]);
  assert.deepEqual(
    seen.map((s) => s.Message),
    ["accepted", "preparing", "prepared", "starting", "started"],
  );
  await advance(1000);
  assert.equal(runner.status.State, "complete");
  assert.equal(runner.status.Message, "finished");
  await runner.stop();
});

test("with a healthcheck the task is running only once healthy", async () => {
  const { runner, advance, states } = setup(HEALTH, { healthyAfterMs: 3000 });
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "starting");
  await advance(2900);
  assert.equal(runner.status.State, "starting");
  await advance(200);
  assert.equal(runner.status.State, "running");
  assert.deepEqual(states().slice(-2), ["starting", "running"]);
  await runner.stop();
});

test("unhealthy: the container is stopped and the task fails with Swarm's message", async () => {
  const { runner, advance, engine } = setup(HEALTH, {
    healthyAfterMs: 500,
    unhealthyAfterMs: 2000,
    stopExitCode: 143,
  });
  void runner.start();
  await advance(600);
  assert.equal(runner.status.State, "running");
  await advance(1500);
  assert.equal(runner.status.State, "failed");
  assert.equal(runner.status.Err, "task: non-zero exit (143): dockerexec: unhealthy container");
  assert.ok(engine.calls.includes("stop web.1.t1"));
  await runner.stop();
});

test("a non-zero exit fails the task with the exit code in ContainerStatus", async () => {
  const { runner, advance } = setup({}, { runMs: 50, exitCode: 3 });
  void runner.start();
  await settle();
  await advance(100);
  assert.equal(runner.status.State, "failed");
  assert.equal(runner.status.Err, "task: non-zero exit (3)");
  assert.equal(runner.status.ContainerStatus?.ExitCode, 3);
  assert.ok(runner.status.ContainerStatus?.ContainerID);
  await runner.stop();
});

test("a crash (docker kill) is noticed through the die event", async () => {
  const { runner, engine } = setup({});
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "running");
  engine.crash("web.1.t1", 137);
  await settle();
  assert.equal(runner.status.State, "failed");
  assert.equal(runner.status.Err, "task: non-zero exit (137)");
  await runner.stop();
});

test("a missing image that cannot be pulled rejects the task", async () => {
  const { runner } = setup({ Image: "nosuch:img" }, {}, { images: ["busybox:local"] });
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "rejected");
  assert.match(runner.status.Err ?? "", /^No such image: nosuch:img: pull access denied/);
  await runner.stop();
});

test("a start failure fails the task", async () => {
  const { runner } = setup({}, { failStart: "oci runtime create failed" });
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "failed");
  assert.equal(runner.status.Err, "starting container failed: oci runtime create failed");
  await runner.stop();
});

test("dockerd unreachable: retried, then the task proceeds", async () => {
  const { runner, engine, advance } = setup({});
  engine.down = true;
  void runner.start();
  await advance(3000);
  assert.equal(runner.status.State, "assigned");
  engine.down = false;
  await advance(1000);
  assert.equal(runner.status.State, "running");
  await runner.stop();
});

test("desired shutdown stops with the grace period; a hanging container is killed after it", async () => {
  const { runner, advance, engine } = setup({ StopGracePeriod: 5e9 }, { hangOnStop: true });
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "running");
  runner.update(task({ StopGracePeriod: 5e9 }, "shutdown"));
  await advance(4900);
  assert.equal(runner.status.State, "running");
  await advance(200);
  assert.equal(runner.status.State, "shutdown");
  assert.equal(engine.container("web.1.t1")?.exitCode, 137);
  await runner.stop();
});

test("desired state never goes down; desired ready prepares without starting", async () => {
  const { runner, engine } = setup({});
  runner.update({ ...task(), DesiredState: "ready" }); // ignored: lower than running
  assert.equal(runner.desired, "running");
  const r2 = new TaskRunner({
    task: task({}, "ready"),
    env: { service: { ID: "s1", Name: "web2" }, node: { ID: "n1", Hostname: "h" } },
    engine,
    clock: new VirtualClock(),
    logger: silentLogger(),
    onStatus: () => undefined,
  });
  void r2.start();
  await settle();
  assert.equal(r2.status.State, "ready");
  assert.equal(engine.container("web2.1.t1")?.state, "created");
  r2.update(task({}, "running"));
  await settle();
  assert.equal(r2.status.State, "running");
  await r2.stop();
});

test("remove stops and deletes the container", async () => {
  const { runner, engine } = setup({});
  void runner.start();
  await settle();
  await runner.remove();
  assert.equal(engine.container("web.1.t1"), undefined);
});

test("an unresolvable task is rejected without touching dockerd", async () => {
  const { runner, engine } = setup({ Hostname: "{{.Nope}}" });
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "rejected");
  assert.equal(runner.status.Message, "resolving controller failed");
  assert.ok(!engine.calls.some((c) => c.startsWith("create")));
  await runner.stop();
});

test("an absent image is pulled with the service's registry credentials, then run", async () => {
  const { runner, engine } = setup(
    { Image: "127.0.0.1:5000/app:1", PullOptions: { RegistryAuth: "eyJ1c2VybmFtZSI6InUifQ==" } },
    {},
    { images: [], pullable: () => true },
  );
  void runner.start();
  await settle();
  assert.deepEqual(engine.pulls, [{ ref: "127.0.0.1:5000/app:1", registryAuth: "eyJ1c2VybmFtZSI6InUifQ==" }]);
  assert.equal(runner.status.State, "running");
  await runner.stop();
});

/** The same task on an overlay network (a backend of its service's VIP), with service labels. */
function networked(desired: TaskStateName, labels?: Record<string, string>): SwarmTask {
  return {
    ...task({}, desired),
    ServiceAnnotations: { Name: "web", Labels: labels },
    NetworksAttachments: [{ Network: { ID: "net1", Spec: { Name: "backend" } }, Addresses: ["10.0.1.5/24"] }],
  } as unknown as SwarmTask;
}

function setupNetworked(labels?: Record<string, string>) {
  const env = setup({});
  const runner = new TaskRunner({
    task: networked("running", labels),
    env: { service: { ID: "s1", Name: "web" }, node: { ID: "n1", Hostname: "h" } },
    engine: env.engine,
    clock: env.clock,
    logger: silentLogger(),
    onStatus: () => undefined,
  });
  env.engine.subscribeEvents(
    (e) => runner.notify(e),
    () => undefined,
  );
  const stops = () => env.engine.calls.filter((c) => c.startsWith("stop"));
  return { ...env, runner, stops };
}

test("a backend drains (still RUNNING) for the default period before the stop signal", async () => {
  const { runner, advance, stops } = setupNetworked();
  void runner.start();
  await settle();
  assert.equal(runner.status.State, "running");
  runner.update(networked("shutdown"));
  await advance(2900);
  assert.equal(runner.status.State, "running");
  assert.deepEqual(stops(), []);
  await advance(200);
  assert.deepEqual(stops(), ["stop web.1.t1"]);
  assert.equal(runner.status.State, "shutdown");
  await runner.stop();
});

test("the io.shoal.drain-period label sets the drain; 0s stops at once", async () => {
  const short = setupNetworked({ "io.shoal.drain-period": "500ms" });
  void short.runner.start();
  await settle();
  short.runner.update(networked("shutdown", { "io.shoal.drain-period": "500ms" }));
  await short.advance(400);
  assert.deepEqual(short.stops(), []);
  await short.advance(200);
  assert.equal(short.runner.status.State, "shutdown");
  await short.runner.stop();

  const none = setupNetworked({ "io.shoal.drain-period": "0s" });
  void none.runner.start();
  await settle();
  none.runner.update(networked("shutdown", { "io.shoal.drain-period": "0s" }));
  await settle();
  assert.equal(none.runner.status.State, "shutdown");
  await none.runner.stop();
});

test("a task that serves nothing (no network, no published port) stops at once", async () => {
  const { runner, engine } = setup({});
  void runner.start();
  await settle();
  runner.update(task({}, "shutdown"));
  await settle();
  assert.equal(runner.status.State, "shutdown");
  assert.ok(engine.calls.includes("stop web.1.t1"));
  await runner.stop();
});

test("a container that exits while draining is reported shut down without a stop", async () => {
  const { runner, advance, stops, engine } = setupNetworked();
  void runner.start();
  await settle();
  runner.update(networked("shutdown"));
  await advance(1000);
  await engine.killContainer("web.1.t1");
  await settle();
  assert.equal(runner.status.State, "shutdown");
  assert.deepEqual(stops(), []);
  await runner.stop();
});

test("remove() of a running backend drains before stopping it", async () => {
  const { runner, advance, stops, engine } = setupNetworked({ "io.shoal.drain-period": "1s" });
  void runner.start();
  await settle();
  let removed = false;
  const removing = runner.remove().then(() => {
    removed = true;
  });
  await advance(900);
  assert.equal(removed, false);
  assert.deepEqual(stops(), []);
  await advance(200);
  await removing;
  assert.deepEqual(stops(), ["stop web.1.t1"]);
  assert.equal(engine.container("web.1.t1"), undefined);
});
