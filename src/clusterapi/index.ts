/**
 * clusterapi: the cluster API on :2377 (HTTP/2 over mutual TLS): joining and certificate renewal,
 * agents' dispatcher sessions, and log streaming from nodes. Server for managers, clients for every
 * node. See docs/design/clusterapi.md.
 */

export { localAuthority } from "./authority.ts";
export type { ClientTls } from "./client.ts";
export { ClusterApiClient } from "./client.ts";
export type {
  CertificateAuthority,
  ClusterSecurity,
  ManagerMembership,
  NewNode,
  NodeRegistry,
} from "./deps.ts";
export type { JoinOptions, JoinResult, ManagersReply, RenewOptions } from "./join.ts";
export { fetchManagers, fetchRootCA, joinCluster, joinEtcdCluster, renewCertificate } from "./join.ts";
export { RemoteLogClient } from "./log-client.ts";
export type { LogPublisher } from "./log-hub.ts";
export { LogHub } from "./log-hub.ts";
export { DEFAULT_CALL_TIMEOUT_MS, PATHS, ROUTE_ROLES } from "./protocol.ts";
export { joinedNodeObject } from "./registry.ts";
export type { RemoteDispatcherOptions } from "./remote-dispatcher.ts";
export { RemoteDispatcherConnector } from "./remote-dispatcher.ts";
export type { ClusterApiServerDeps } from "./server.ts";
export { ClusterApiServer } from "./server.ts";
