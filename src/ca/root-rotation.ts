/**
 * The cluster's root CA state and how `swarm update` changes it (SwarmKit's validateCAConfig for a
 * CA that holds its key; external CAs are not supported): a new `ForceRotate` value starts a
 * rotation to a fresh root, a given certificate and key start a rotation to them (or abort one, when
 * they are the current root), and otherwise nothing changes. The rotation itself (every node
 * renewing under the new key, then the swap) is the manager's reconciler; `finishRotation` is its
 * last step.
 */
import type { Clock, Ids } from "../base/index.ts";
import { invalidArgument } from "../base/index.ts";
import type { SigningMaterial } from "./node-cert.ts";
import { createRootCA } from "./rootca.ts";
import { crossSignRootCA } from "./rotation.ts";
import { parseSigningCA, sameKey } from "./signing-ca.ts";
import { samePem } from "./tls-info.ts";

export interface RootRotationState {
  CACert: string;
  CAKey: string;
  CrossSignedCACert: string;
}

export interface RootCAState {
  certPem: string;
  keyPem: string;
  rotation?: RootRotationState;
  /** The ForceRotate value this state answers. */
  lastForcedRotation: number;
  /** Appended to every certificate the current root issues (see ClusterPrivate.RootIntermediates). */
  intermediatesPem?: string;
}

/** The CA part of a requested swarm spec. */
export interface CAConfigRequest {
  ForceRotate?: number;
  SigningCACert?: string;
  SigningCAKey?: string;
}

/** What the CA signs with: the rotation's new key and cross-signed certificate while one runs. */
export function signingMaterialOf(state: RootCAState): SigningMaterial {
  const r = state.rotation;
  if (r) return { signingCertPem: r.CACert, signingKeyPem: r.CAKey, intermediatesPem: r.CrossSignedCACert };
  return {
    signingCertPem: state.certPem,
    signingKeyPem: state.keyPem,
    ...(state.intermediatesPem ? { intermediatesPem: state.intermediatesPem } : {}),
  };
}

/** A rotation from the current root (always signed by the current root's own key) to `next`. */
async function startRotation(
  state: RootCAState,
  next: { certPem: string; keyPem: string },
  forceRotate: number,
  ids: Ids,
): Promise<RootCAState> {
  const cross = await crossSignRootCA({ certPem: state.certPem, keyPem: state.keyPem }, next.certPem, ids);
  return {
    ...state,
    rotation: { CACert: next.certPem, CAKey: next.keyPem, CrossSignedCACert: cross },
    lastForcedRotation: forceRotate,
  };
}

/**
 * The root CA state after a `swarm update` with this CA config. Errors are SwarmKit's
 * InvalidArgument texts (the caller wraps them as moby shows gRPC errors).
 */
export async function nextRootCAState(
  state: RootCAState,
  req: CAConfigRequest,
  clock: Clock,
  ids: Ids,
): Promise<RootCAState> {
  const forceRotate = req.ForceRotate ?? 0;
  if (req.SigningCAKey && !req.SigningCACert) {
    throw invalidArgument("if a signing CA key is provided, the signing CA cert must also be provided");
  }
  if (!req.SigningCACert) {
    if (state.lastForcedRotation === forceRotate) return state;
    const fresh = await createRootCA(clock, ids);
    return startRotation(state, fresh, forceRotate, ids);
  }
  if (!req.SigningCAKey) {
    // Only an external CA could sign for a certificate without its key.
    throw invalidArgument(
      "there must be at least one valid, reachable external CA corresponding to the desired CA certificate",
    );
  }
  const wanted = parseSigningCA(req.SigningCACert, req.SigningCAKey, clock.now());
  if (samePem(wanted.certPem, state.certPem)) {
    const { rotation: _aborted, ...rest } = state;
    return { ...rest, keyPem: wanted.keyPem, lastForcedRotation: forceRotate };
  }
  if (sameKey(wanted.keyPem, state.keyPem)) {
    throw invalidArgument("Cannot update to a cert with an identical key");
  }
  if (state.rotation && samePem(state.rotation.CACert, wanted.certPem)) {
    return {
      ...state,
      rotation: { ...state.rotation, CAKey: wanted.keyPem },
      lastForcedRotation: forceRotate,
    };
  }
  return startRotation(state, wanted, forceRotate, ids);
}

/**
 * The swap once every node holds a certificate from the new key: the new root becomes the trust
 * root and signer. The cross-signed certificate stays attached to what the new root issues, for
 * peers that still trust only the old root until they reload (etcd members).
 */
export function finishRotation(state: RootCAState): RootCAState {
  const r = state.rotation;
  if (!r) return state;
  return {
    certPem: r.CACert,
    keyPem: r.CAKey,
    lastForcedRotation: state.lastForcedRotation,
    intermediatesPem: r.CrossSignedCACert,
  };
}
