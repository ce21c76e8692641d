/**
 * Who a peer is, from its certificate: CN = node ID, OU = role, O = cluster ID. Authorization follows
 * SwarmKit's ca/auth.go: the organization must be this cluster, the OU one of the allowed roles, and
 * the node must not have been removed; the messages are SwarmKit's.
 */
import { ErrorCode, ShoalError } from "../base/index.ts";
import { splitPemCertificates } from "./keys.ts";
import type { NodeRole } from "./roles.ts";
import { ouOfRole, roleOfOu } from "./roles.ts";
import { x509 } from "./x509.ts";

export interface NodeIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
}

export interface CertValidity {
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
}

/** A certificate subject as node:tls reports it (a field repeated in the subject is an array). */
export type PeerSubject = Partial<Record<string, string | string[]>>;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? undefined : v);

/** The identity in a subject, or undefined when it is not a node certificate's subject. */
export function identityFromSubject(subject: PeerSubject): NodeIdentity | undefined {
  const nodeId = one(subject.CN);
  const role = roleOfOu(one(subject.OU));
  const clusterId = one(subject.O);
  if (!nodeId || !role || !clusterId) return undefined;
  return { nodeId, role, clusterId };
}

/** Reads the identity and validity of the first certificate of a PEM chain (no verification). */
export function parseNodeCertificate(chainPem: string): NodeIdentity & CertValidity {
  const leaf = splitPemCertificates(chainPem)[0];
  if (!leaf) throw new ShoalError(ErrorCode.InvalidArgument, "no certificate in PEM data");
  const cert = new x509.X509Certificate(leaf);
  const field = (oid: string) => {
    const values = cert.subjectName.getField(oid);
    return values.length === 1 ? values[0] : undefined;
  };
  const identity = identityFromSubject({ CN: field("CN"), OU: field("OU"), O: field("O") });
  if (!identity) throw new ShoalError(ErrorCode.InvalidArgument, "not a swarm node certificate");
  return { ...identity, notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() };
}

/**
 * Verifies that a PEM chain (leaf first, then intermediates) chains to the root and that every
 * certificate is valid at `now`; returns the leaf's identity.
 */
export async function verifyNodeCertificate(
  chainPem: string,
  rootPem: string,
  now: number,
): Promise<NodeIdentity & CertValidity> {
  const chain = splitPemCertificates(chainPem).map((p) => new x509.X509Certificate(p));
  const root = new x509.X509Certificate(rootPem);
  if (chain.length === 0) throw unauthenticated("no certificate in PEM data");
  const date = new Date(now);
  for (const [i, cert] of chain.entries()) {
    // The root first, as OpenSSL does: after a root rotation a chain ends in the new root
    // cross-signed by the old one, and a node trusting the new root stops at the leaf.
    if (await signedBy(cert, root, date)) break;
    const next = chain[i + 1];
    if (!next || !(await signedBy(cert, next, date))) {
      throw unauthenticated("certificate does not chain to the cluster root CA or has expired");
    }
  }
  if (!(await root.verify({ date }))) throw unauthenticated("the cluster root CA has expired");
  return parseNodeCertificate(chainPem);
}

async function signedBy(
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
  date: Date,
): Promise<boolean> {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer.publicKey, date });
  } catch {
    return false;
  }
}

export interface AuthorizationPolicy {
  clusterId: string;
  /** Roles allowed to call. */
  roles: readonly NodeRole[];
  /** True when the node was removed from the swarm (its CN is blacklisted). */
  isRemoved(nodeId: string): boolean;
}

/** SwarmKit's AuthorizeOrgAndRole: returns the identity or throws PermissionDenied. */
export function authorizeNode(peer: NodeIdentity | undefined, policy: AuthorizationPolicy): NodeIdentity {
  if (!peer) {
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      "Permission denied: peer didn't not present valid peer certificate",
    );
  }
  if (policy.isRemoved(peer.nodeId)) {
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      `Permission denied: node ${peer.nodeId} was removed from swarm`,
    );
  }
  if (peer.clusterId !== policy.clusterId) {
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      `Permission denied: remote certificate not part of organization: ${policy.clusterId}`,
    );
  }
  if (!policy.roles.includes(peer.role)) {
    const ous = policy.roles.map(ouOfRole).join(" ");
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      `Permission denied: remote certificate not part of OUs: [${ous}]`,
    );
  }
  return peer;
}

const unauthenticated = (message: string) => new ShoalError(ErrorCode.Unauthenticated, message);
