/**
 * What the cluster API server needs from the rest of the manager. The interfaces belong to this
 * consumer; the daemon implements them over the store (see docs/design/clusterapi.md).
 */
import type { NodeCertSubject, NodeRole, TlsInfo } from "../ca/index.ts";
import type { EtcdJoinResponse } from "./protocol.ts";

/** The cluster's security settings, read on every call (implement over the store's cache). */
export interface ClusterSecurity {
  /** The cluster ID: the O of every node certificate. */
  clusterId(): string;
  /** The current join tokens (they rotate). */
  joinTokens(): { worker: string; manager: string };
  /** True when the node was removed (its ID is in the cluster's blacklist). */
  isRemoved(nodeId: string): boolean;
  /** The trust root and, during a root rotation, the new root (absent: not told to nodes). */
  trustRoots?(): { root: string; next?: string };
}

/** The CA: its trust root and its signer (during a root rotation, the new key plus cross-signed cert). */
export interface CertificateAuthority {
  /** The trust root joiners download: exactly the PEM bytes a join token's digest pins. */
  rootCAPem(): string;
  /** Signs a CSR; returns the node certificate chain (PEM). */
  sign(csrPem: string, subject: NodeCertSubject): Promise<string>;
}

export interface NewNode {
  nodeId: string;
  role: NodeRole;
  availability: "active" | "pause" | "drain";
}

/** Node objects, as the CA endpoints create and read them. */
export interface NodeRegistry {
  /**
   * Creates the Node for a node that presented a valid join token: Spec.Role = role,
   * Spec.Availability as requested, Status.State unknown (the session makes it ready). Throws
   * AlreadyExists when the ID is taken (the server then draws another).
   */
  createNode(node: NewNode): Promise<void>;
  /** The role the store gives the node (never the request's), or undefined if it does not exist. */
  roleOf(nodeId: string): Promise<NodeRole | undefined>;
  /** Records a certificate just issued (for Description.TLSInfo and the blacklist's expiry). */
  certificateIssued(nodeId: string, certPem: string): Promise<void>;
  /** Optional: the node's TLS state as it reports it (stored as Description.TLSInfo when it changed). */
  reportTlsInfo?(nodeId: string, info: TlsInfo): Promise<void>;
  /** Optional: whether the root rotation told the node to renew its certificate. */
  mustRenew?(nodeId: string): boolean;
  /** Optional: a session was opened from this address (Swarm stores it in Status.Addr). */
  sessionOpened?(nodeId: string, remoteAddress: string | undefined): void;
}

/** Manager membership, as the manager-only routes need it (the daemon implements it over etcd). */
export interface ManagerMembership {
  /** Cluster API addresses (host:port) of the managers, reachable ones first. */
  managerAddrs(): string[];
  /**
   * Makes the node (already a manager in the store) an etcd member: records its address, adds the
   * member, and answers the `--initial-cluster` value it must start with, the data key (base64)
   * and, with autolock, the unlock key.
   */
  addManager(nodeId: string, peerUrl: string, addr: string): Promise<EtcdJoinResponse>;
}
