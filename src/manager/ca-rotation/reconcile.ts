/**
 * The root rotation's decision (SwarmKit's rootRotationReconciler): while a rotation runs, every
 * node whose certificate does not come from the new issuer is told to renew, at most 30 at a time
 * (IssuanceStateRotateMaxBatchSize); once none is left, the rotation finishes. Down nodes count: a
 * rotation waits for them, as Swarm's does, until they come back or are removed.
 */
import type { Cluster, Node } from "../../api/index.ts";
import { hasIssuer } from "../../ca/index.ts";

export const ROTATE_BATCH_SIZE = 30;
/** SwarmKit's defaultRootReconciliationInterval. */
export const ROTATE_INTERVAL_MS = 3000;

export type RotationDecision =
  | { kind: "idle" }
  | { kind: "finish" }
  /** `nodeIds` get Certificate.State = rotate; `waiting` nodes were told already. */
  | { kind: "rotate"; nodeIds: string[]; waiting: number };

/** The nodes whose certificate is not from the issuer the cluster signs with now. */
export function unconvergedNodes(cluster: Cluster, nodes: readonly Node[]): Node[] {
  const wanted = cluster.TLSInfo;
  if (!wanted?.CertIssuerSubject || !wanted.CertIssuerPublicKey) return [...nodes];
  const issuer = {
    TrustRoot: wanted.TrustRoot ?? "",
    CertIssuerSubject: wanted.CertIssuerSubject,
    CertIssuerPublicKey: wanted.CertIssuerPublicKey,
  };
  return nodes.filter((n) => !hasIssuer(n.Description?.TLSInfo, issuer));
}

export function decideRotation(cluster: Cluster | undefined, nodes: readonly Node[]): RotationDecision {
  if (!cluster?.Shoal?.RootRotation) return { kind: "idle" };
  const pending = unconvergedNodes(cluster, nodes);
  if (pending.length === 0) return { kind: "finish" };
  const told = pending.filter((n) => n.Certificate?.State === "rotate");
  const nodeIds = pending
    .filter((n) => n.Certificate?.State !== "rotate")
    .slice(0, ROTATE_BATCH_SIZE)
    .map((n) => n.ID);
  return { kind: "rotate", nodeIds, waiting: told.length };
}
