import assert from "node:assert/strict";
import { test } from "node:test";
import type { TaskStateName } from "../../api/index.ts";
import { type ActionOutcome, nextStep, type Step, type StepInput } from "./controller.ts";
import type { ObservedContainer } from "./types.ts";

const C = (over: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: "c1",
  name: "web.1.t1",
  state: "running",
  exitCode: 0,
  pid: 42,
  error: "",
  oomKilled: false,
  health: "none",
  labels: {},
  ...over,
});

interface Row {
  name: string;
  state: TaskStateName;
  desired?: TaskStateName;
  message?: string;
  container?: ObservedContainer | null;
  outcome?: ActionOutcome;
  unhealthy?: boolean;
  resolveError?: string;
  drainMs?: number;
  want:
    | Step["kind"]
    | { state: TaskStateName; message?: string; err?: string; exitCode?: number; retry?: true };
}

const rows: Row[] = [
  // gates: advance only below the desired state
  { name: "assigned → accepted", state: "assigned", want: { state: "accepted", message: "accepted" } },
  { name: "new → accepted", state: "new", want: { state: "accepted", message: "accepted" } },
  { name: "accepted → preparing", state: "accepted", want: { state: "preparing", message: "preparing" } },
  { name: "ready → starting", state: "ready", want: { state: "starting", message: "starting" } },
  { name: "desired ready holds ready", state: "ready", desired: "ready", want: "idle" },
  { name: "desired accepted holds accepted", state: "accepted", desired: "accepted", want: "idle" },
  { name: "beyond desired: pause", state: "running", desired: "ready", want: "idle" },
  // preparing proceeds regardless of desired
  { name: "preparing, no container → prepare", state: "preparing", container: null, want: "prepare" },
  {
    name: "preparing, desired ready → prepare",
    state: "preparing",
    desired: "ready",
    container: null,
    want: "prepare",
  },
  {
    name: "prepared → ready",
    state: "preparing",
    container: null,
    outcome: { action: "prepare" },
    want: { state: "ready", message: "prepared" },
  },
  {
    name: "container already there → ready",
    state: "preparing",
    container: C({ state: "created" }),
    want: { state: "ready", message: "prepared" },
  },
  {
    name: "prepare failure → rejected, message kept",
    state: "preparing",
    message: "preparing",
    container: null,
    outcome: { action: "prepare", error: { message: "No such image: nosuch:img", temporary: false } },
    want: { state: "rejected", message: "preparing", err: "No such image: nosuch:img" },
  },
  {
    name: "temporary prepare failure → retry, state kept",
    state: "preparing",
    container: null,
    outcome: { action: "prepare", error: { message: "cannot reach dockerd", temporary: true } },
    want: { state: "preparing", err: "cannot reach dockerd", retry: true },
  },
  // starting
  { name: "starting, created → start", state: "starting", container: C({ state: "created" }), want: "start" },
  {
    name: "starting, running without healthcheck → running",
    state: "starting",
    container: C(),
    want: { state: "running", message: "started" },
  },
  {
    name: "starting, health starting → await",
    state: "starting",
    container: C({ health: "starting" }),
    want: "await",
  },
  {
    name: "starting, healthy → running",
    state: "starting",
    container: C({ health: "healthy" }),
    want: { state: "running", message: "started" },
  },
  {
    name: "starting, unhealthy → stop it",
    state: "starting",
    container: C({ health: "unhealthy" }),
    want: "shutdown",
  },
  {
    name: "starting, exited 0 → running (then complete)",
    state: "starting",
    container: C({ state: "exited", exitCode: 0 }),
    want: { state: "running", message: "started" },
  },
  {
    name: "starting, exited 3 → failed",
    state: "starting",
    message: "starting",
    container: C({ state: "exited", exitCode: 3 }),
    want: { state: "failed", message: "starting", err: "task: non-zero exit (3)", exitCode: 3 },
  },
  {
    name: "start failure → failed",
    state: "starting",
    container: C({ state: "created" }),
    outcome: {
      action: "start",
      error: { message: "starting container failed: oci error", temporary: false },
    },
    want: { state: "failed", err: "starting container failed: oci error" },
  },
  {
    name: "starting, container gone → failed",
    state: "starting",
    container: null,
    want: { state: "failed", err: "No such container: web.1.t1" },
  },
  // running
  { name: "running → await the exit", state: "running", container: C(), want: "await" },
  {
    name: "running, exit 0 → complete",
    state: "running",
    container: C({ state: "exited" }),
    want: { state: "complete", message: "finished" },
  },
  {
    name: "running, exit 137 → failed",
    state: "running",
    message: "started",
    container: C({ state: "exited", exitCode: 137 }),
    want: { state: "failed", message: "started", err: "task: non-zero exit (137)", exitCode: 137 },
  },
  {
    name: "running, dockerd error → cause appended",
    state: "running",
    container: C({ state: "dead", exitCode: 128, error: "oci runtime error" }),
    want: { state: "failed", err: "task: non-zero exit (128): oci runtime error" },
  },
  {
    name: "running, unhealthy → stop it",
    state: "running",
    container: C(),
    unhealthy: true,
    want: "shutdown",
  },
  {
    name: "running, stopped after unhealthy → failed",
    state: "running",
    container: C({ state: "exited", exitCode: 143 }),
    unhealthy: true,
    want: { state: "failed", err: "task: non-zero exit (143): dockerexec: unhealthy container" },
  },
  {
    name: "running, unhealthy then exit 0 → still failed",
    state: "running",
    container: C({ state: "exited", exitCode: 0 }),
    unhealthy: true,
    want: { state: "failed", err: "dockerexec: unhealthy container" },
  },
  {
    name: "running, container removed → failed",
    state: "running",
    container: null,
    want: { state: "failed", err: "No such container: web.1.t1" },
  },
  {
    name: "running, desired complete (job) → await",
    state: "running",
    desired: "complete",
    container: C(),
    want: "await",
  },
  // desired shutdown / remove
  {
    name: "desired shutdown, running → stop",
    state: "running",
    desired: "shutdown",
    container: C(),
    want: "shutdown",
  },
  {
    name: "desired remove, running → stop",
    state: "running",
    desired: "remove",
    container: C(),
    want: "shutdown",
  },
  {
    name: "desired shutdown, stopped → shutdown",
    state: "running",
    desired: "shutdown",
    container: C({ state: "exited", exitCode: 143 }),
    want: { state: "shutdown", message: "shutdown" },
  },
  {
    name: "desired shutdown, stop returned → shutdown",
    state: "running",
    desired: "shutdown",
    container: C(),
    outcome: { action: "shutdown" },
    want: { state: "shutdown", message: "shutdown" },
  },
  {
    name: "desired shutdown before any container → shutdown",
    state: "preparing",
    desired: "shutdown",
    container: null,
    want: { state: "shutdown", message: "shutdown" },
  },
  {
    name: "desired shutdown, created only → shutdown",
    state: "ready",
    desired: "shutdown",
    container: C({ state: "created" }),
    want: { state: "shutdown", message: "shutdown" },
  },
  {
    name: "stop failure while running → failed",
    state: "running",
    desired: "shutdown",
    container: C(),
    outcome: { action: "shutdown", error: { message: "stop timed out", temporary: false } },
    want: { state: "failed", err: "stop timed out" },
  },
  // the drain: a running container keeps running until the drain period is over
  {
    name: "desired shutdown, draining → drain",
    state: "running",
    desired: "shutdown",
    drainMs: 800,
    want: "drain",
  },
  {
    name: "desired remove, draining → drain",
    state: "running",
    desired: "remove",
    drainMs: 800,
    want: "drain",
  },
  {
    name: "desired shutdown, drained → stop",
    state: "running",
    desired: "shutdown",
    drainMs: 0,
    want: "shutdown",
  },
  {
    name: "draining but the container exited → shutdown",
    state: "running",
    desired: "shutdown",
    drainMs: 800,
    container: C({ state: "exited" }),
    want: { state: "shutdown", message: "shutdown" },
  },
  {
    name: "a starting task (never a backend) does not drain",
    state: "starting",
    desired: "shutdown",
    drainMs: 800,
    want: "shutdown",
  },
  { name: "desired shutdown, already complete → idle", state: "complete", desired: "shutdown", want: "idle" },
  { name: "desired shutdown, already failed → idle", state: "failed", desired: "shutdown", want: "idle" },
  {
    name: "terminal states stay",
    state: "failed",
    container: C({ state: "exited", exitCode: 1 }),
    want: "idle",
  },
  // resolution
  {
    name: "unresolvable before start → rejected",
    state: "assigned",
    resolveError: "invalid mount target, must be an absolute path: rel",
    want: {
      state: "rejected",
      message: "resolving controller failed",
      err: "invalid mount target, must be an absolute path: rel",
    },
  },
  {
    name: "unresolvable while running → failed",
    state: "running",
    resolveError: "bad",
    want: { state: "failed", message: "resolving controller failed", err: "bad" },
  },
  { name: "unresolvable but terminal → idle", state: "rejected", resolveError: "bad", want: "idle" },
];

for (const row of rows) {
  test(row.name, () => {
    const input: StepInput = {
      status: { State: row.state, Message: row.message ?? row.state },
      desired: row.desired ?? "running",
      container: row.container === undefined ? C() : row.container,
      containerName: "web.1.t1",
      outcome: row.outcome,
      unhealthy: row.unhealthy,
      resolveError: row.resolveError,
      drainMs: row.drainMs,
    };
    const step = nextStep(input);
    if (typeof row.want === "string") {
      assert.equal(step.kind, row.want);
      return;
    }
    assert.equal(step.kind, row.want.retry ? "retry" : "report");
    assert.ok(step.kind === "report" || step.kind === "retry");
    const s = step.status;
    assert.equal(s.State, row.want.state);
    if (row.want.message !== undefined) assert.equal(s.Message, row.want.message);
    assert.equal(s.Err, row.want.err);
    if (row.want.exitCode !== undefined) assert.equal(s.ContainerStatus?.ExitCode, row.want.exitCode);
  });
}

test("container status is reported from starting on, not before", () => {
  const ready = nextStep({
    status: { State: "accepted" },
    desired: "running",
    container: C(),
    containerName: "x",
  });
  assert.ok(ready.kind === "report" && ready.status.ContainerStatus === undefined);
  const running = nextStep({
    status: { State: "starting" },
    desired: "running",
    container: C(),
    containerName: "x",
  });
  assert.ok(running.kind === "report");
  assert.deepEqual(running.status.ContainerStatus, { ContainerID: "c1", PID: 42, ExitCode: 0 });
});

test("a forward transition clears a previous error", () => {
  const s = nextStep({
    status: { State: "ready", Err: "old" },
    desired: "running",
    container: null,
    containerName: "x",
  });
  assert.ok(s.kind === "report" && s.status.Err === undefined && s.status.State === "starting");
});
