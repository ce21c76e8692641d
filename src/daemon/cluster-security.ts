/**
 * The cluster API's view of the cluster (its ClusterSecurity, CertificateAuthority and NodeRegistry
 * interfaces), implemented over the manager's store. Every call reads the store's cache, so token
 * rotation, a new cert expiry or a removed node take effect on the next request.
 */
import type { Cluster, Node } from "../api/index.ts";
import type { Clock, Ids } from "../base/index.ts";
import { notFound, ShoalError, unavailable } from "../base/index.ts";
import {
  isBlacklisted,
  NodeCertSigner,
  nodeCertExpiryMs,
  nodeTlsInfo,
  rootCAStateOf,
  signingMaterialOf,
} from "../ca/index.ts";
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
    trustRoots: () => {
      const c = cluster(store);
      const next = c.Shoal?.RootRotation?.CACert;
      return { root: c.TLSInfo?.TrustRoot ?? "", ...(next ? { next } : {}) };
    },
  };
}

/**
 * Signs with the cluster's root key, or during a root rotation with the new key and the
 * cross-signed certificate; the signer is rebuilt when that material or the cert expiry changes.
 */
export function clusterAuthority(store: Store, clock: Clock, ids: Ids): CertificateAuthority {
  let memo: { key: string; signer: Promise<NodeCertSigner> } | undefined;
  const signer = (c: Cluster): Promise<NodeCertSigner> => {
    const material = signingMaterialOf(rootCAStateOf(c));
    const expiry = nodeCertExpiryMs(c.Spec?.CAConfig?.NodeCertExpiry);
    const memoKey = [expiry, material.signingKeyPem, material.intermediatesPem ?? ""].join("\u0000");
    if (memo?.key !== memoKey) {
      memo = { key: memoKey, signer: NodeCertSigner.create(material, { clock, ids, certExpiryMs: expiry }) };
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
    // The issuer is recorded at once, so the root rotation does not ask the node again before it
    // reports; the trust root stays what the node last reported. Only a missing node fails the
    // issuance: the node reports its TLSInfo itself anyway (a write lost to an etcd leader change
    // must not cost a demoted manager its renewal).
    certificateIssued: async (nodeId, certPem) => {
      if (!store.view((tx) => tx.get("nodes", nodeId))) throw notFound(`node ${nodeId} not found`);
      await store
        .update((tx) => {
          const node = tx.get("nodes", nodeId);
          if (!node) throw notFound(`node ${nodeId} not found`);
          const clusterRoot = tx.list("clusters")[0]?.TLSInfo?.TrustRoot ?? "";
          const root = node.Description?.TLSInfo?.TrustRoot ?? clusterRoot;
          const issued = nodeTlsInfo(certPem, clusterRoot);
          tx.update("nodes", {
            ...node,
            Description: { ...node.Description, TLSInfo: { ...issued, TrustRoot: root } },
            Certificate: { State: "issued" },
          });
        })
        .catch((err: unknown) => {
          if (ShoalError.is(err, "NotFound")) throw err;
        });
    },
    reportTlsInfo: async (nodeId, info) => {
      const same = (n: Node | undefined) => {
        const cur = n?.Description?.TLSInfo;
        return (
          cur?.TrustRoot === info.TrustRoot &&
          cur.CertIssuerSubject === info.CertIssuerSubject &&
          cur.CertIssuerPublicKey === info.CertIssuerPublicKey
        );
      };
      if (same(store.view((tx) => tx.get("nodes", nodeId)))) return;
      await store.update((tx) => {
        const node = tx.get("nodes", nodeId);
        if (!node || same(node)) return;
        tx.update("nodes", { ...node, Description: { ...node.Description, TLSInfo: info } });
      });
    },
    mustRenew: (nodeId) => store.view((tx) => tx.get("nodes", nodeId))?.Certificate?.State === "rotate",
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
