/**
 * The root CA part of `swarm update` (`docker swarm ca --rotate`): the new root CA state is worked
 * out before the transaction (making a root and cross-signing are asynchronous) and written with
 * the rest of the update. The signing certificate and key the request carries are never stored in
 * the spec (moby shows neither); the key lives only in the cluster's private part.
 */
import type { Cluster, SwarmSpec } from "../../api/index.ts";
import type { Clock, Ids } from "../../base/index.ts";
import { invalidArgument, notImplemented, ShoalError } from "../../base/index.ts";
import { nextRootCAState, type RootCAState, rootCAStateOf } from "../../ca/index.ts";
import { rpcText } from "./swarm.ts";

/** The root CA state this update asks for, or undefined when it leaves the CA as it is. */
export async function plannedRootCA(
  cluster: Cluster,
  spec: SwarmSpec,
  clock: Clock,
  ids: Ids,
): Promise<RootCAState | undefined> {
  const ca = spec.CAConfig ?? {};
  if ((ca.ExternalCAs?.length ?? 0) > 0) throw notImplemented("external CAs (--external-ca)");
  const current = rootCAStateOf(cluster);
  try {
    const next = await nextRootCAState(current, ca, clock, ids);
    return next === current ? undefined : next;
  } catch (err) {
    if (ShoalError.is(err, "InvalidArgument")) throw invalidArgument(rpcText("InvalidArgument", err.message));
    throw err;
  }
}

/** The spec as stored and shown: without the signing certificate and key. */
export function storedSpec(spec: SwarmSpec): SwarmSpec {
  if (!spec.CAConfig) return spec;
  const { SigningCACert: _cert, SigningCAKey: _key, ...ca } = spec.CAConfig;
  return { ...spec, CAConfig: ca };
}
