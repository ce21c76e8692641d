/**
 * The cluster API's wire format (HTTP/2 over mutual TLS on :2377). Unary calls are POSTs of a JSON
 * body answered with a JSON body; long-lived calls (the agent's session, log streams) carry
 * newline-delimited JSON. Failures are a non-200 status with `{error: {code, message}}`; the code is
 * authoritative, the status only a hint for humans with curl. See docs/design/clusterapi.md.
 */
import type {
  AssignmentMessage,
  LogLine,
  LogRequest,
  NodeDescription,
  TaskStatusReport,
} from "../api/index.ts";
import type { ErrorCode } from "../base/index.ts";
import type { NodeRole } from "../ca/index.ts";

export const PATHS = {
  rootCA: "/shoal.cluster.v1/ca/root",
  issue: "/shoal.cluster.v1/ca/issue",
  renew: "/shoal.cluster.v1/ca/renew",
  session: "/shoal.cluster.v1/dispatcher/session",
  heartbeat: "/shoal.cluster.v1/dispatcher/heartbeat",
  status: "/shoal.cluster.v1/dispatcher/status",
  logsPublish: "/shoal.cluster.v1/logs/publish",
  logsSubscribe: "/shoal.cluster.v1/logs/subscribe",
  etcdJoin: "/shoal.cluster.v1/etcd/join",
  managers: "/shoal.cluster.v1/managers",
} as const;
export type ApiPath = (typeof PATHS)[keyof typeof PATHS];

/** Who may call what: undefined = anyone (join endpoints are gated by the token or are public). */
export const ROUTE_ROLES: Record<ApiPath, readonly NodeRole[] | undefined> = {
  [PATHS.rootCA]: undefined,
  [PATHS.issue]: undefined,
  [PATHS.renew]: ["worker", "manager"],
  [PATHS.session]: ["worker", "manager"],
  [PATHS.heartbeat]: ["worker", "manager"],
  [PATHS.status]: ["worker", "manager"],
  [PATHS.logsPublish]: ["worker", "manager"],
  [PATHS.logsSubscribe]: ["manager"],
  [PATHS.etcdJoin]: ["manager"],
  [PATHS.managers]: ["worker", "manager"],
};

export interface WireError {
  code: ErrorCode;
  message: string;
}

export interface RootCAResponse {
  certificate: string;
}

export interface IssueRequest {
  token: string;
  csr: string;
  availability?: "active" | "pause" | "drain";
  /**
   * The node's advertise address: a manager's certificate carries it as an IP SAN, which etcd's
   * peer TLS checks (ignored for workers and for values that are not IP addresses).
   */
  advertiseAddr?: string;
}

export interface IssueResponse {
  nodeId: string;
  role: NodeRole;
  /** The node certificate chain (PEM). */
  certificate: string;
  rootCA: string;
}

export interface RenewRequest {
  csr: string;
  /** As in IssueRequest. */
  advertiseAddr?: string;
}

export interface RenewResponse {
  role: NodeRole;
  certificate: string;
  rootCA: string;
}

/** A new manager asks to become an etcd member; its name is its certificate's node ID. */
export interface EtcdJoinRequest {
  /** The URL other members will reach its etcd member at (https, its advertise address). */
  peerUrl: string;
  /** Its cluster API address, host:port (recorded as ManagerStatus.Addr). */
  addr: string;
}

export interface EtcdJoinResponse {
  /** The `--initial-cluster` value to start the new member with (state "existing"). */
  initialCluster: string;
  /**
   * The cluster's data key (base64): every value in etcd is sealed with it, so every manager needs
   * it. Sent only to an authenticated manager over mutual TLS.
   */
  dataKey: string;
  /**
   * The manager unlock key when autolock is on: the new manager wraps its keys with it before it
   * starts (SwarmKit's managers call CA.GetUnlockKey at the same point).
   */
  unlockKey?: string;
}

/** Every node asks every few seconds, reporting its TLS state. */
export interface ManagersRequest {
  /** The node's trust root and its certificate's issuer (Swarm's Node.Description.TLSInfo). */
  tlsInfo?: { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string };
}

/** The cluster API addresses (host:port) of the cluster's managers; a worker's failover list. */
export interface ManagersResponse {
  managers: string[];
  /** The caller's role in the store: differing from its certificate's, it renews (promotion). */
  role?: NodeRole;
  /** The cluster's trust root: once a rotation finished, the new one, which the node adopts. */
  rootCA?: string;
  /** During a root rotation, the new root, which the node trusts as well. */
  nextRootCA?: string;
  /** The root rotation wants this node to renew its certificate. */
  rotate?: boolean;
}

export interface SessionRequest {
  description: NodeDescription;
}

export interface HeartbeatRequest {
  sessionId: string;
}

export interface HeartbeatResponse {
  periodMs: number;
}

export interface StatusRequest {
  sessionId: string;
  reports: TaskStatusReport[];
}

/** A log line on the wire: the bytes as base64. */
export interface WireLogLine {
  taskId: string;
  stream: "stdout" | "stderr";
  timestamp: string;
  line: string;
}

/** Messages down the session stream, manager → agent. */
export type SessionDownMessage =
  | { type: "session"; sessionId: string; heartbeatPeriodMs: number }
  | { type: "assignments"; message: AssignmentMessage }
  | { type: "logs"; subscriptionId: string; request: LogRequest }
  | { type: "logsCancel"; subscriptionId: string }
  | { type: "error"; error: WireError };

/** Messages up a log publish stream, agent → manager: a header, lines, and maybe a final error. */
export type LogPublishMessage =
  | { type: "subscription"; subscriptionId: string }
  | { type: "line"; line: WireLogLine }
  | { type: "error"; error: WireError };

/** Messages down a log subscribe stream, manager → manager. */
export type LogStreamMessage = { type: "line"; line: WireLogLine } | { type: "error"; error: WireError };

export interface LogSubscribeRequest {
  nodeId: string;
  request: LogRequest;
}

export const toWireLine = (l: LogLine): WireLogLine => ({
  taskId: l.taskId,
  stream: l.stream,
  timestamp: l.timestamp,
  line: l.line.toString("base64"),
});

export const fromWireLine = (l: WireLogLine): LogLine => ({
  taskId: l.taskId,
  stream: l.stream,
  timestamp: l.timestamp,
  line: Buffer.from(l.line, "base64"),
});

/** The status a failure travels with (a hint; clients read the code from the body). */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case "InvalidArgument":
      return 400;
    case "Unauthenticated":
      return 401;
    case "PermissionDenied":
      return 403;
    case "NotFound":
      return 404;
    case "AlreadyExists":
    case "Conflict":
    case "SequenceConflict":
      return 409;
    case "FailedPrecondition":
      return 412;
    case "NotImplemented":
      return 501;
    case "Unavailable":
    case "NotLeader":
      return 503;
    default:
      return 500;
  }
}

/** Unary request bodies are small (a CSR, a batch of status reports). */
export const MAX_UNARY_BODY_BYTES = 4 * 1024 * 1024;
/** SwarmKit's per-call deadline for CA requests; used for every unary call. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;
