/**
 * The cluster API's view of the cluster (its ClusterSecurity, CertificateAuthority and NodeRegistry
 * interfaces), implemented over the manager's store. Every call reads the store's cache, so token
 * rotation, a new cert expiry or a removed node take effect on the next request.
 */
import type { Cluster } from "../api/index.ts";
import type { Clock, Ids } from "../base/index.ts";
import { notFound, unavailable } from "../base/index.ts";
import { isBlacklisted, NodeCertSigner, nodeCertExpiryMs } from "../ca/index.ts";
import type { CertificateAuthority, ClusterSecurity, NodeRegistry } from "../clusterapi/index.ts";
import { joinedNodeObject } from "../clusterapi/index.ts";
import type { Store } from "../store/types.ts";

function cluster(store: Store): Cluster {
  const c = store.view((tx) => tx.list("clusters")[0]);
  if (!c) throw unavailable("the cluster object is not available yet");
  return c;
}

export function clusterSecurity(store: Store): ClusterSecurity {
  return {
    clusterId: () => cluster(store).ID,
    joinTokens: () => {
      const tokens = cluster(store).JoinTokens ?? {};
      return { worker: tokens.Worker ?? "", manager: tokens.Manager ?? "" };
    },
    isRemoved: (nodeId) => isBlacklisted(cluster(store).Shoal?.BlacklistedCertificates, nodeId),
  };
}

/** Signs with the cluster's root key; the signer is rebuilt when the key or the cert expiry changes. */
export function clusterAuthority(store: Store, clock: Clock, ids: Ids): CertificateAuthority {
  let memo: { key: string; signer: Promise<NodeCertSigner> } | undefined;
  const signer = (c: Cluster): Promise<NodeCertSigner> => {
    const keyPem = c.Shoal?.RootCAKey;
    const certPem = c.TLSInfo?.TrustRoot;
    if (!keyPem || !certPem) throw unavailable("this cluster's CA key is not available");
    const expiry = nodeCertExpiryMs(c.Spec?.CAConfig?.NodeCertExpiry);
    const memoKey = `${expiry}\u0000${keyPem}`;
    if (memo?.key !== memoKey) {
      memo = {
        key: memoKey,
        signer: NodeCertSigner.create(
          { signingCertPem: certPem, signingKeyPem: keyPem },
          { clock, ids, certExpiryMs: expiry },
        ),
      };
    }
    return memo.signer;
  };
  return {
    rootCAPem: () => cluster(store).TLSInfo?.TrustRoot ?? "",
    sign: async (csrPem, subject) => (await signer(cluster(store))).sign(csrPem, subject),
  };
}

export function nodeRegistry(store: Store, clock: Clock): NodeRegistry {
  return {
    createNode: async (node) => {
      const root = cluster(store).TLSInfo?.TrustRoot ?? "";
      await store.update((tx) =>
        tx.create("nodes", joinedNodeObject(node, new Date(clock.now()).toISOString(), root)),
      );
    },
    roleOf: async (nodeId) => {
      const role = store.view((tx) => tx.get("nodes", nodeId))?.Spec?.Role;
      return role === "manager" || role === "worker" ? role : undefined;
    },
    certificateIssued: async (nodeId) => {
      if (!store.view((tx) => tx.get("nodes", nodeId))) throw notFound(`node ${nodeId} not found`);
    },
    sessionOpened: (nodeId, remoteAddress) => {
      if (!remoteAddress) return;
      // Swarm shows the address a node's session came from; losing a race here is harmless.
      void store
        .update((tx) => {
          const node = tx.get("nodes", nodeId);
          if (!node || node.Status?.Addr === remoteAddress) return;
          tx.update("nodes", { ...node, Status: { ...node.Status, Addr: remoteAddress } });
        })
        .catch(() => undefined);
    },
  };
}
