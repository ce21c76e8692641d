/**
 * The agent ↔ dispatcher protocol, shared by both sides (the manager never imports the agent, nor
 * the reverse: they meet here). On one node the transport is in-process; across nodes the same
 * messages travel over the cluster API's mutual-TLS stream.
 */
import type { NodeDescription } from "./generated/engine.ts";
import type { SwarmNetworkObject } from "./network.ts";
import type { Task } from "./shoal.ts";

/**
 * A secret or config as a node receives it. A node only ever receives those referenced by its own
 * tasks in states assigned..running (SwarmKit's rule), and keeps them in memory only.
 */
export interface AssignedPayload {
  ID: string;
  Name: string;
  /** The payload, standard base64 (the message stays JSON-serialisable). Never log it. */
  Data: string;
}

/** What a node is told to run. The first message of a session is a full set, then increments. */
export interface AssignmentMessage {
  kind: "complete" | "incremental";
  /** Tasks to run or update (desired state may have moved on). */
  tasks: Task[];
  /** Task IDs no longer assigned to this node (only in incremental messages). */
  removed: string[];
  /** Secrets to hold: in a complete message the whole set, in an incremental one the new ones. */
  secrets?: AssignedPayload[];
  /** Configs to hold, as `secrets`. */
  configs?: AssignedPayload[];
  /** Secret IDs to forget (incremental only): no task of this node in assigned..running uses them. */
  removedSecrets?: string[];
  /** Config IDs to forget, as `removedSecrets`. */
  removedConfigs?: string[];
  /**
   * The data plane's view of the networks this node's tasks use (service VIPs for load balancing,
   * peer task addresses for DNS and VXLAN). When present it replaces the previous one whole.
   */
  peers?: NetworkPeers;
}

/** A service attached to one of the node's networks: its name, endpoint mode and VIPs. */
export interface PeerService {
  ID: string;
  Name: string;
  /** `dnsrr` services have no VIP: their name resolves to the task addresses. */
  Mode: "vip" | "dnsrr";
  /** One VIP per network (CIDR, as allocated). */
  VirtualIPs: Array<{ NetworkID: string; Addr: string }>;
  /**
   * Further names of the service per network (the spec's network aliases; `docker stack deploy`
   * gives every service its short name in the stack this way), answered like its name there.
   */
  Aliases?: Array<{ NetworkID: string; Alias: string }>;
}

/** A task on one of the node's networks (any node) whose container may be attached to it. */
export interface PeerTask {
  ID: string;
  ServiceID: string;
  NodeID: string;
  /** Its address on each of the node's networks (CIDR). */
  Addresses: Array<{ NetworkID: string; Addr: string }>;
  /**
   * False while the task must get no new connections (starting, not yet healthy, or draining
   * before its stop) but must stay reachable: its replies and in-flight connections cross the
   * overlay. A load-balancing and DNS backend otherwise.
   */
  Serving?: boolean;
}

/** True when the task is a load-balancing and DNS backend. */
export const isServing = (t: PeerTask): boolean => t.Serving !== false;

/** Everything a node's data plane needs to know about the networks its tasks use. */
export interface NetworkPeers {
  services: PeerService[];
  tasks: PeerTask[];
  /** The underlay address of every node in `tasks` and of the receiving node (VXLAN endpoints). */
  nodes?: Array<{ ID: string; Addr: string }>;
  /**
   * The routing mesh, sent to every node while some service publishes a port in ingress mode. Its
   * backends are the entries of `tasks` on the ingress network (which `tasks` then covers).
   */
  mesh?: MeshView;
}

/** What every node needs to answer ingress-mode published ports (the routing mesh). */
export interface MeshView {
  /** The ingress network as allocated (subnet, gateway, VNI). */
  Network: SwarmNetworkObject;
  /** The services that publish ports in ingress mode, with their allocated published ports. */
  services: MeshService[];
  /**
   * Every node with an address on ingress: its underlay address (VXLAN endpoint) and its own
   * ingress address, which the mesh SNATs to and remote backends send their replies to.
   */
  nodes: MeshNode[];
}

export interface MeshService {
  ID: string;
  Ports: MeshPort[];
}

export interface MeshPort {
  Protocol: "tcp" | "udp" | "sctp";
  PublishedPort: number;
  TargetPort: number;
}

export interface MeshNode {
  ID: string;
  Addr: string;
  /** CIDR, as allocated (`Node.Attachments` on ingress). */
  IngressAddr: string;
}

/** The status part of a task the agent reports. */
export interface TaskStatusReport {
  taskId: string;
  status: NonNullable<Task["Status"]>;
}

export interface SessionInfo {
  sessionId: string;
  /** How often the agent must heartbeat, in ms. */
  heartbeatPeriodMs: number;
}

/** One registration of a node with a dispatcher. */
export interface DispatcherSession {
  readonly info: SessionInfo;
  /** Assignment messages until the session ends (the iterator then finishes or throws). */
  assignments(): AsyncIterable<AssignmentMessage>;
  /** Reports task status changes; the dispatcher drops any that would move a task backwards. */
  updateTaskStatus(reports: TaskStatusReport[]): Promise<void>;
  /** Keeps the node alive; returns the period to wait before the next heartbeat, in ms. */
  heartbeat(): Promise<number>;
  close(): void;
}

/** How an agent reaches a dispatcher. */
export interface DispatcherConnector {
  openSession(nodeId: string, description: NodeDescription): Promise<DispatcherSession>;
}

/** Log lines a node streams for `docker service logs` (one line each). */
export interface LogLine {
  taskId: string;
  stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds, as dockerd gives it. */
  timestamp: string;
  line: Buffer;
}

export interface LogRequest {
  taskIds: string[];
  follow: boolean;
  tail?: number;
  /** Unix seconds (fractional). */
  since?: number;
  stdout: boolean;
  stderr: boolean;
}

/** A node's side of log streaming: the manager asks, the node answers with lines. */
export interface TaskLogSource {
  logs(req: LogRequest, signal: AbortSignal): AsyncIterable<LogLine>;
}
