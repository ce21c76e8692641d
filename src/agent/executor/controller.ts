/**
 * The agent-side task state machine as a pure step function, after swarmkit `exec.Do` and
 * `exec.Resolve` (agent/exec/controller.go) with moby's docker controller folded in
 * (daemon/cluster/executor/container/controller.go). Each call looks at the reported status, the
 * desired state, what dockerd says about the container and the outcome of the last action, and
 * returns one step: report a new status, run one engine action, or wait.
 *
 * Where swarmkit blocks inside `Start` (for `healthy`) or `Wait` (for `die`), this machine returns
 * `await` and is called again when dockerd reports an event, so one loop serves every task.
 */
import { type TaskStateName, TaskStates } from "../../api/index.ts";
import type { ObservedContainer, TaskStatus } from "./types.ts";

/** Swarm's error texts, matched by users and scripts. */
export const Messages = {
  unhealthy: "dockerexec: unhealthy container",
  destroyed: "dockerexec: container destroyed",
  resolveFailed: "resolving controller failed",
} as const;

export type ActionKind = "prepare" | "start" | "shutdown";

/** The result of the previous engine action, handed to the next step exactly once. */
export interface ActionOutcome {
  action: ActionKind;
  /** Set when the action failed. */
  error?: { message: string; temporary: boolean };
}

export interface StepInput {
  status: TaskStatus;
  desired: TaskStateName;
  /** The task's container as dockerd shows it now; null when there is none. */
  container: ObservedContainer | null;
  /** The container name, for messages about a missing container. */
  containerName: string;
  outcome?: ActionOutcome;
  /** The task could not be turned into a container config (bad template, no image…). */
  resolveError?: string;
  /** Latched by the runner once the container was seen unhealthy; survives the container's exit. */
  unhealthy?: boolean;
  /** Milliseconds of the drain period still to wait before the stop signal (drain.ts); 0 when none. */
  drainMs?: number;
}

export type Step =
  /** Report this status; the state never goes down. */
  | { kind: "report"; status: TaskStatus }
  /** Pull the image if absent, then create the container. */
  | { kind: "prepare" }
  | { kind: "start" }
  /** Stop with the grace period (then SIGKILL). */
  | { kind: "shutdown" }
  /** Keep running `ms` longer before the stop: the task has left the backend sets and drains. */
  | { kind: "drain"; ms: number }
  /** Nothing to do until dockerd reports a change (start, die, health). */
  | { kind: "await" }
  /** A temporary failure: report `status` (same state, Err set) and try again later. */
  | { kind: "retry"; status: TaskStatus }
  /** Nothing to do until the desired state changes. */
  | { kind: "idle" };

const lt = (a: TaskStateName, b: TaskStateName): boolean => TaskStates[a] < TaskStates[b];

function withContainer(status: TaskStatus, c: ObservedContainer | null): TaskStatus {
  if (!c || lt(status.State, "starting")) return status;
  return { ...status, ContainerStatus: { ContainerID: c.id, PID: c.pid, ExitCode: c.exitCode } };
}

/** A forward transition: new state and message, error cleared. */
function transition(input: StepInput, state: TaskStateName, message: string): Step {
  const { Err: _dropped, ...rest } = input.status;
  return {
    kind: "report",
    status: withContainer({ ...rest, State: state, Message: message }, input.container),
  };
}

/**
 * How a failure counts for a task in `state`: temporary ones (dockerd unreachable, cancelled) are
 * retried; otherwise a task that had not reached `starting` is rejected, a later one failed.
 */
export function classifyFailure(state: TaskStateName, temporary: boolean): "retry" | "rejected" | "failed" {
  if (temporary) return "retry";
  return lt(state, "starting") ? "rejected" : "failed";
}

/** A fatal error: rejected before starting, failed from starting on; the message stays. */
function fatal(input: StepInput, err: string): Step {
  const state = classifyFailure(input.status.State, false) as TaskStateName;
  return {
    kind: "report",
    status: withContainer({ ...input.status, State: state, Err: err }, input.container),
  };
}

/** `task: non-zero exit (N)` with the cause when one is known. */
export function exitMessage(code: number, cause?: string): string {
  return cause ? `task: non-zero exit (${code}): ${cause}` : `task: non-zero exit (${code})`;
}

function outcomeError(input: StepInput, action: ActionKind): Step | undefined {
  const o = input.outcome;
  if (o?.action !== action || !o.error) return undefined;
  if (classifyFailure(input.status.State, o.error.temporary) === "retry") {
    return { kind: "retry", status: { ...input.status, Err: o.error.message } };
  }
  return fatal(input, o.error.message);
}

const stopped = (c: ObservedContainer): boolean => c.state === "exited" || c.state === "dead";

/** The container has exited: complete on 0 unless it was unhealthy, failed otherwise. */
function exited(input: StepInput, c: ObservedContainer): Step {
  if (input.unhealthy) {
    return fatal(input, c.exitCode !== 0 ? exitMessage(c.exitCode, Messages.unhealthy) : Messages.unhealthy);
  }
  if (c.exitCode !== 0) return fatal(input, exitMessage(c.exitCode, c.error || undefined));
  return input.status.State === "running"
    ? transition(input, "complete", "finished")
    : transition(input, "running", "started");
}

/** STARTING and RUNNING: start it, wait for health, notice the exit. */
function active(input: StepInput): Step {
  const failed = outcomeError(input, "start") ?? outcomeError(input, "shutdown");
  if (failed) return failed;
  const c = input.container;
  if (!c) return fatal(input, `No such container: ${input.containerName}`);
  if (stopped(c)) return exited(input, c);
  if (input.unhealthy || c.health === "unhealthy") {
    // moby stops an unhealthy container and reports the exit; a stop that returned means it is down
    if (input.outcome?.action === "shutdown") return exited(input, c);
    return { kind: "shutdown" };
  }
  if (input.status.State === "running") return { kind: "await" };
  if (c.state === "created") return { kind: "start" };
  if (c.state === "running" && (c.health === "none" || c.health === "healthy")) {
    return transition(input, "running", "started");
  }
  return { kind: "await" };
}

/** One step of the task state machine. Pure: same input, same step. */
export function nextStep(input: StepInput): Step {
  const { status, desired } = input;
  const state = status.State;
  if (input.resolveError !== undefined && !lt("running", state)) {
    return {
      kind: "report",
      status: {
        ...status,
        State: lt(state, "starting") ? "rejected" : "failed",
        Message: Messages.resolveFailed,
        Err: input.resolveError,
      },
    };
  }
  if (input.resolveError !== undefined) return { kind: "idle" };
  // Desired shutdown (or remove) bounds everything: stop the container unless already terminal.
  if (!lt(desired, "shutdown")) {
    if (!lt(state, "complete")) return { kind: "idle" };
    const failed = outcomeError(input, "shutdown");
    if (failed) return failed;
    const c = input.container;
    if (input.outcome?.action === "shutdown" || !c || c.state === "created" || stopped(c)) {
      return transition(input, "shutdown", "shutdown");
    }
    // Swarm's Shutdown sleeps before the stop while the task still reports RUNNING; so does this
    const drainMs = input.drainMs ?? 0;
    if (state === "running" && c.state === "running" && drainMs > 0) return { kind: "drain", ms: drainMs };
    return { kind: "shutdown" };
  }
  if (lt(desired, state)) return { kind: "idle" }; // beyond the desired state: pause
  // These states proceed past the desired state.
  if (state === "preparing") {
    const failed = outcomeError(input, "prepare");
    if (failed) return failed;
    if (input.container || input.outcome?.action === "prepare") return transition(input, "ready", "prepared");
    return { kind: "prepare" };
  }
  if (state === "starting" || state === "running") return active(input);
  // Gate states advance only while below the desired state.
  if (!lt(state, desired)) return { kind: "idle" };
  if (lt(state, "accepted")) return transition(input, "accepted", "accepted");
  if (state === "accepted") return transition(input, "preparing", "preparing");
  if (state === "ready") return transition(input, "starting", "starting");
  return { kind: "idle" }; // terminal states
}
