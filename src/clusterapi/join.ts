/**
 * Joining and renewal, client side (SwarmKit's DownloadRootCA + GetRemoteSignedCertificate):
 * 1. download the root CA over TLS without verifying the server, and accept it only if its digest
 *    is the one in the join token ("remote CA does not match fingerprint");
 * 2. make a key and CSR; send the CSR with the token over TLS that verifies the manager against
 *    that root (server name `swarm-ca`), presenting no client certificate;
 * 3. check the certificate that comes back and return the credentials (the caller saves them).
 */
import type { Clock } from "../base/index.ts";
import { ErrorCode, internal, invalidArgument, ShoalError } from "../base/index.ts";
import type { NodeCredentials, NodeRole } from "../ca/index.ts";
import {
  CA_SERVER_NAME,
  createNodeKeyAndCSR,
  MANAGER_OU,
  parseJoinToken,
  parseNodeCertificate,
  type TlsInfo,
  tokenMatchesRoot,
  trustedRoots,
  verifyNodeCertificate,
} from "../ca/index.ts";
import { ClusterApiClient } from "./client.ts";
import {
  type EtcdJoinRequest,
  type EtcdJoinResponse,
  type IssueRequest,
  type ManagersRequest,
  PATHS,
  type RenewRequest,
} from "./protocol.ts";
import { asObject, optStr, str } from "./wire.ts";

export interface JoinOptions {
  /** A manager's cluster API address, host:port. */
  addr: string;
  token: string;
  availability?: "active" | "pause" | "drain";
  /** The joiner's advertise address (a manager's certificate names it for etcd's peer TLS). */
  advertiseAddr?: string;
  clock: Clock;
  timeoutMs?: number;
}

export interface JoinResult {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  credentials: NodeCredentials;
}

/** The root CA the manager serves, checked against the token's digest. */
export async function fetchRootCA(addr: string, token: string, timeoutMs?: number): Promise<string> {
  const parsed = parseJoinToken(token);
  const client = new ClusterApiClient(addr, { rootCAPem: undefined, servername: CA_SERVER_NAME }, timeoutMs);
  try {
    const reply = asObject(await client.call(PATHS.rootCA, undefined, "GET"), "root CA reply");
    const rootCAPem = str(reply, "certificate");
    if (!tokenMatchesRoot(parsed, rootCAPem)) {
      throw new ShoalError(
        ErrorCode.InvalidArgument,
        `remote CA does not match fingerprint. Expected: ${base36ToHex(parsed.digest)}`,
      );
    }
    return rootCAPem;
  } finally {
    client.close();
  }
}

export async function joinCluster(options: JoinOptions): Promise<JoinResult> {
  const rootCAPem = await fetchRootCA(options.addr, options.token, options.timeoutMs);
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const client = new ClusterApiClient(
    options.addr,
    { rootCAPem, servername: CA_SERVER_NAME },
    options.timeoutMs,
  );
  try {
    const request: IssueRequest = { token: options.token, csr: csrPem };
    if (options.availability) request.availability = options.availability;
    if (options.advertiseAddr) request.advertiseAddr = options.advertiseAddr;
    const reply = asObject(await client.call(PATHS.issue, request), "issue reply");
    const certPem = str(reply, "certificate");
    const who = await verifyNodeCertificate(certPem, rootCAPem, options.clock.now());
    if (who.nodeId !== str(reply, "nodeId")) throw internal("the CA issued a certificate for another node");
    return {
      nodeId: who.nodeId,
      role: who.role,
      clusterId: who.clusterId,
      credentials: { certPem, keyPem, rootCAPem },
    };
  } finally {
    client.close();
  }
}

export interface RenewOptions {
  addr: string;
  credentials: NodeCredentials;
  /** As in JoinOptions: kept as an IP SAN while the node is a manager. */
  advertiseAddr?: string;
  clock: Clock;
  timeoutMs?: number;
}

/**
 * A new certificate for this node, authenticated by the current one; the role is the store's (a
 * promoted or demoted node learns its new role here). The trust root may have changed (rotation).
 */
export async function renewCertificate(options: RenewOptions): Promise<JoinResult> {
  const { credentials } = options;
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const client = new ClusterApiClient(
    options.addr,
    {
      rootCAPem: trustedRoots(credentials),
      certPem: credentials.certPem,
      keyPem: credentials.keyPem,
      servername: MANAGER_OU,
    },
    options.timeoutMs,
  );
  try {
    const request: RenewRequest = { csr: csrPem };
    if (options.advertiseAddr) request.advertiseAddr = options.advertiseAddr;
    const reply = asObject(await client.call(PATHS.renew, request), "renew reply");
    const certPem = str(reply, "certificate");
    const rootCAPem = str(reply, "rootCA");
    // The reply came over TLS verified against the root we trust, so its root is authentic; after
    // a root rotation it is the new one, and the new certificate must chain to it.
    const who = await verifyNodeCertificate(certPem, rootCAPem, options.clock.now());
    if (who.nodeId !== parseNodeCertificate(credentials.certPem).nodeId) {
      throw internal("the CA renewed the certificate of another node");
    }
    return {
      nodeId: who.nodeId,
      role: who.role,
      clusterId: who.clusterId,
      credentials: { certPem, keyPem, rootCAPem },
    };
  } finally {
    client.close();
  }
}

/** Clients for manager-only calls: TLS verified against the root, the node's certificate presented. */
function managerClient(addr: string, credentials: NodeCredentials, timeoutMs?: number): ClusterApiClient {
  const { certPem, keyPem } = credentials;
  const rootCAPem = trustedRoots(credentials);
  return new ClusterApiClient(addr, { rootCAPem, certPem, keyPem, servername: MANAGER_OU }, timeoutMs);
}

/**
 * A new manager asks an existing one to add its etcd member; answers the `--initial-cluster` value.
 * The call waits for etcd (which refuses changes for a few seconds after a member joined), hence
 * the longer deadline.
 */
export async function joinEtcdCluster(
  addr: string,
  credentials: NodeCredentials,
  request: EtcdJoinRequest,
  timeoutMs = 30_000,
): Promise<EtcdJoinResponse> {
  const client = managerClient(addr, credentials, timeoutMs);
  try {
    const reply = asObject(await client.call(PATHS.etcdJoin, request), "etcd join reply");
    const unlockKey = reply.unlockKey;
    if (unlockKey !== undefined && typeof unlockKey !== "string")
      throw invalidArgument("unlockKey must be a string");
    return {
      initialCluster: str(reply, "initialCluster"),
      dataKey: str(reply, "dataKey"),
      ...(unlockKey ? { unlockKey } : {}),
    };
  } finally {
    client.close();
  }
}

export interface ManagersReply {
  managers: string[];
  role: NodeRole | undefined;
  /** The cluster's trust root and, during a root rotation, the new root. */
  rootCA?: string;
  nextRootCA?: string;
  /** The node must renew its certificate (root rotation). */
  rotate: boolean;
}

/**
 * The cluster's manager addresses, the caller's role in the store and its part in a root
 * rotation; `tlsInfo` reports the node's trust root and certificate issuer (stored on its Node).
 */
export async function fetchManagers(
  addr: string,
  credentials: NodeCredentials,
  tlsInfo?: TlsInfo,
  timeoutMs?: number,
): Promise<ManagersReply> {
  const client = managerClient(addr, credentials, timeoutMs);
  try {
    const request: ManagersRequest = tlsInfo ? { tlsInfo } : {};
    const reply = asObject(await client.call(PATHS.managers, request), "managers reply");
    const managers = Array.isArray(reply.managers)
      ? reply.managers.filter((m): m is string => typeof m === "string")
      : [];
    const role = reply.role === "manager" || reply.role === "worker" ? reply.role : undefined;
    const rootCA = optStr(reply, "rootCA");
    const nextRootCA = optStr(reply, "nextRootCA");
    return {
      managers,
      role,
      ...(rootCA ? { rootCA } : {}),
      ...(nextRootCA ? { nextRootCA } : {}),
      rotate: reply.rotate === true,
    };
  } finally {
    client.close();
  }
}

function base36ToHex(digits: string): string {
  let n = 0n;
  for (const c of digits) {
    const d = Number.parseInt(c, 36);
    if (Number.isNaN(d)) throw invalidArgument("invalid join token");
    n = n * 36n + BigInt(d);
  }
  return n.toString(16).padStart(64, "0");
}
