/**
 * The objects and credentials a new swarm starts with (`swarm init`): root CA, join tokens, the
 * cluster and this node's objects, and the node's own manager certificate signed by the new root.
 * With autolock the cluster starts with its unlock key.
 */
import type { Cluster, Node, NodeDescription, SwarmSpec } from "../api/index.ts";
import type { Clock, Ids } from "../base/index.ts";
import { timestamp } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import {
  createNodeKeyAndCSR,
  createRootCA,
  generateJoinToken,
  NodeCertSigner,
  nodeCertExpiryMs,
  tlsInfoOf,
} from "../ca/index.ts";
import type { SwarmInitRequest } from "../engineapi/index.ts";
import type { NodeState } from "./node-state.ts";

export interface NewSwarm {
  cluster: Cluster;
  node: Node;
  credentials: NodeCredentials;
}

export async function bootstrapSwarm(
  state: NodeState,
  spec: SwarmSpec,
  req: SwarmInitRequest,
  availability: "active" | "pause" | "drain",
  description: NodeDescription,
  advertisePort: number,
  clock: Clock,
  ids: Ids,
  unlockKey?: string,
): Promise<NewSwarm> {
  const rootCA = await createRootCA(clock, ids);
  const signer = await NodeCertSigner.create(
    { signingCertPem: rootCA.certPem, signingKeyPem: rootCA.keyPem },
    { clock, ids, certExpiryMs: nodeCertExpiryMs(spec.CAConfig?.NodeCertExpiry) },
  );
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const certPem = await signer.sign(csrPem, {
    nodeId: state.nodeId,
    role: "manager",
    clusterId: state.clusterId,
    ips: [state.advertiseAddr],
  });
  const now = timestamp(clock);
  const tlsInfo = tlsInfoOf(rootCA.certPem);
  const cluster: Cluster = {
    ID: state.clusterId,
    CreatedAt: now,
    UpdatedAt: now,
    Spec: spec,
    TLSInfo: tlsInfo,
    RootRotationInProgress: false,
    DefaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool : ["10.0.0.0/8"],
    SubnetSize: req.SubnetSize || 24,
    DataPathPort: req.DataPathPort || 4789,
    JoinTokens: {
      Worker: generateJoinToken(rootCA.certPem, ids),
      Manager: generateJoinToken(rootCA.certPem, ids),
    },
    Shoal: { RootCAKey: rootCA.keyPem, ...(unlockKey ? { UnlockKey: unlockKey } : {}) },
  };
  const node: Node = {
    ID: state.nodeId,
    CreatedAt: now,
    UpdatedAt: now,
    Spec: { Labels: {}, Role: "manager", Availability: availability },
    Description: { ...description, TLSInfo: tlsInfo },
    Status: { State: "ready", Addr: state.advertiseAddr },
    ManagerStatus: {
      Leader: true,
      Reachability: "reachable",
      Addr: `${state.advertiseAddr}:${advertisePort}`,
    },
  };
  return { cluster, node, credentials: { certPem, keyPem, rootCAPem: rootCA.certPem } };
}
