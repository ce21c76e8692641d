/**
 * What the Engine API server needs from the rest of the node. engineapi owns this interface; the
 * daemon implements it. Every method either returns the Engine API's JSON shape or throws a
 * ShoalError whose code `errors.ts` maps to an HTTP status (message shown to the user verbatim).
 */
import type { SwarmInfo, Task } from "../api/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";

/** Body of `POST /swarm/init` as the docker CLI sends it. */
export interface SwarmInitRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  DataPathPort?: number;
  DefaultAddrPool?: string[] | null;
  SubnetSize?: number;
  ForceNewCluster?: boolean;
  Spec?: Record<string, unknown>;
  AutoLockManagers?: boolean;
  Availability?: string;
}

/** Body of `POST /swarm/join`. */
export interface SwarmJoinRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  RemoteAddrs?: string[];
  JoinToken?: string;
  Availability?: string;
}

export interface NodeBackend {
  /** The Swarm section of `/info` for this node. */
  swarmInfo(): Promise<SwarmInfo>;
  /** `/_ping`'s Swarm header value: inactive | pending | error | locked | active/worker | active/manager. */
  swarmHeader(): string;
  swarmInit(req: SwarmInitRequest): Promise<string>;
  swarmJoin(req: SwarmJoinRequest): Promise<void>;
  swarmLeave(force: boolean): Promise<void>;
  swarmUnlock(key: string): Promise<void>;
  /**
   * The control API, when this node is an active manager. Otherwise throws the Unavailable error
   * with Swarm's text ("This node is not a swarm manager. Use \"docker swarm init\" ...", the worker
   * variant, or the locked-swarm one).
   */
  control(): ControlApi;
  /**
   * A task container's log lines, from whichever node runs it. Each line carries dockerd's
   * RFC 3339 nanosecond timestamp so the route can merge, filter and prefix them.
   */
  taskLogs(task: Task, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<TaskLogLine>;
}

export interface TaskLogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds, fractional. */
  since?: number;
  tail?: number | "all";
}

export interface TaskLogLine {
  stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds. */
  timestamp: string;
  /** The line without timestamp, ending in a newline. */
  line: Buffer;
}
