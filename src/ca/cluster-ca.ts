/**
 * The root CA state as the cluster object stores it: the trust root in `TLSInfo.TrustRoot`, keys
 * and the rotation in the manager-only `Shoal` part, and what `GET /swarm` derives from them
 * (`TLSInfo` issuer fields, `RootRotationInProgress`, join tokens pinning the root).
 */
import type { Cluster } from "../api/index.ts";
import type { Ids } from "../base/index.ts";
import { unavailable } from "../base/index.ts";
import type { RootCAState } from "./root-rotation.ts";
import { clusterTlsInfo, samePem } from "./tls-info.ts";
import { generateJoinToken } from "./tokens.ts";

export function rootCAStateOf(cluster: Cluster): RootCAState {
  const certPem = cluster.TLSInfo?.TrustRoot;
  const keyPem = cluster.Shoal?.RootCAKey;
  if (!certPem || !keyPem) throw unavailable("this cluster's CA key is not available");
  const p = cluster.Shoal ?? {};
  return {
    certPem,
    keyPem,
    lastForcedRotation: p.LastForcedRotation ?? cluster.Spec?.CAConfig?.ForceRotate ?? 0,
    ...(p.RootRotation ? { rotation: p.RootRotation } : {}),
    ...(p.RootIntermediates ? { intermediatesPem: p.RootIntermediates } : {}),
  };
}

/**
 * The cluster with this CA state. A new trust root gets new join tokens (they embed its digest, so
 * the old ones stop working), as SwarmKit's finishRootRotation does.
 */
export function withRootCAState(cluster: Cluster, state: RootCAState, ids: Ids): Cluster {
  const { RootRotation: _r, RootIntermediates: _i, ...shoal } = cluster.Shoal ?? {};
  const rootChanged = !samePem(cluster.TLSInfo?.TrustRoot ?? "", state.certPem);
  return {
    ...cluster,
    TLSInfo: clusterTlsInfo(state.certPem, state.rotation?.CACert),
    RootRotationInProgress: state.rotation !== undefined,
    ...(rootChanged
      ? {
          JoinTokens: {
            Worker: generateJoinToken(state.certPem, ids),
            Manager: generateJoinToken(state.certPem, ids),
          },
        }
      : {}),
    Shoal: {
      ...shoal,
      RootCAKey: state.keyPem,
      LastForcedRotation: state.lastForcedRotation,
      ...(state.rotation ? { RootRotation: state.rotation } : {}),
      ...(state.intermediatesPem ? { RootIntermediates: state.intermediatesPem } : {}),
    },
  };
}
