/**
 * A NodeBackend for tests: an in-memory node that is either outside a swarm (control() throws
 * Swarm's 503 text) or a manager with a scripted ControlApi. Calls are recorded for assertions.
 */
import type { Swarm, SwarmInfo, SwarmSpec, Task } from "../../api/index.ts";
import { notImplemented, SequenceConflictError, unavailable } from "../../base/index.ts";
import type { ControlApi, SwarmUpdateFlags } from "../../manager/controlapi/index.ts";
import type {
  NodeBackend,
  SwarmInitRequest,
  SwarmJoinRequest,
  TaskLogLine,
  TaskLogOptions,
} from "../backend.ts";

export const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

/** The swarm part of the control API; other methods answer NotImplemented (see `asControlApi`). */
export class FakeControlApi implements Pick<ControlApi, "inspectSwarm" | "updateSwarm" | "unlockKey"> {
  version = 10;
  spec: SwarmSpec = { Name: "default" };
  key = "";
  readonly updates: Array<{ spec: SwarmSpec; flags: SwarmUpdateFlags }> = [];

  inspectSwarm(): Swarm {
    return {
      ID: "cluster1",
      Version: { Index: this.version },
      Spec: this.spec,
      JoinTokens: { Worker: "W", Manager: "M" },
    };
  }

  async updateSwarm(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void> {
    if (flags.version !== this.version) throw new SequenceConflictError();
    this.updates.push({ spec, flags });
    this.spec = spec;
    this.version += 1;
  }

  unlockKey(): string {
    return this.key;
  }
}

export class FakeNodeBackend implements NodeBackend {
  /** undefined: not in a swarm; otherwise this node is an active manager with this control API. */
  manager: FakeControlApi | undefined;
  readonly calls: Array<{ method: string; arg: unknown }> = [];
  /** Set: `control()` throws it (a manager whose control calls fail, e.g. one without a leader). */
  controlRefusal: Error | undefined;

  constructor(manager?: FakeControlApi) {
    this.manager = manager;
  }

  async swarmInfo(): Promise<SwarmInfo> {
    if (!this.manager) {
      return {
        NodeID: "",
        NodeAddr: "",
        LocalNodeState: "inactive",
        ControlAvailable: false,
        Error: "",
        RemoteManagers: null,
      };
    }
    return {
      NodeID: "node1",
      NodeAddr: "127.0.0.1",
      LocalNodeState: "active",
      ControlAvailable: true,
      Error: "",
      RemoteManagers: [{ NodeID: "node1", Addr: "127.0.0.1:2377" }],
      Nodes: 1,
      Managers: 1,
    };
  }

  swarmHeader(): string {
    return this.manager ? "active/manager" : "inactive";
  }

  async swarmInit(req: SwarmInitRequest): Promise<string> {
    this.calls.push({ method: "swarmInit", arg: req });
    this.manager = new FakeControlApi();
    return "node1";
  }

  async swarmJoin(req: SwarmJoinRequest): Promise<void> {
    this.calls.push({ method: "swarmJoin", arg: req });
  }

  async swarmLeave(force: boolean): Promise<void> {
    this.calls.push({ method: "swarmLeave", arg: force });
    this.manager = undefined;
  }

  /** Scripted log lines per task ID; a task without lines yields none. */
  readonly logLines = new Map<string, TaskLogLine[]>();

  async *taskLogs(task: Task, _opts: TaskLogOptions, _signal: AbortSignal): AsyncIterable<TaskLogLine> {
    this.calls.push({ method: "taskLogs", arg: task.ID });
    yield* this.logLines.get(task.ID) ?? [];
  }

  async swarmUnlock(key: string): Promise<void> {
    this.calls.push({ method: "swarmUnlock", arg: key });
  }

  control(): ControlApi {
    if (!this.manager) throw unavailable(NOT_A_MANAGER);
    if (this.controlRefusal) throw this.controlRefusal;
    return asControlApi(this.manager);
  }
}

/**
 * The ControlApi interface grows as routes land; the fake keeps compiling by answering every method
 * it does not define with NotImplemented.
 */
export function asControlApi(fake: object): ControlApi {
  return new Proxy(fake, {
    get(target, prop, receiver) {
      if (prop in target) {
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return () => {
        throw notImplemented(`fake control API: ${String(prop)}`);
      };
    },
  }) as ControlApi;
}
