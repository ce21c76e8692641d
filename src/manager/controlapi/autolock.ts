/**
 * Autolock's part of `swarm update`: the manager unlock key the cluster object keeps (SwarmKit's
 * `Cluster.unlock_keys` for the manager role). Every manager watches it and rewraps its local keys
 * when it changes.
 */
import type { Cluster, SwarmSpec } from "../../api/index.ts";
import type { Ids } from "../../base/index.ts";
import { generateUnlockKey } from "../../ca/index.ts";

/**
 * The key after an update, as SwarmKit's UpdateCluster decides it: none while autolock is off; a
 * new one when autolock turns on or a rotation is asked for; else the current one. Rotating with
 * autolock off is not an error: there is nothing to rotate.
 */
export function nextUnlockKey(
  current: string | undefined,
  spec: SwarmSpec,
  rotate: boolean,
  ids: Ids,
): string | undefined {
  if (!spec.EncryptionConfig?.AutoLockManagers) return undefined;
  if (!current || rotate) return generateUnlockKey(ids);
  return current;
}

/** The cluster's private part with this unlock key (or without one). */
export function withUnlockKey(cluster: Cluster, key: string | undefined): Cluster["Shoal"] {
  const { UnlockKey: _old, ...rest } = cluster.Shoal ?? {};
  return key ? { ...rest, UnlockKey: key } : rest;
}
