/**
 * Every manager follows the cluster's unlock key: when `swarm update --autolock` or
 * `unlock-key --rotate` changes it (on any manager), this one rewraps its own TLS key and data key
 * under the new key, or stores them plain again when autolock is turned off. SwarmKit's managers do
 * the same from the raft store.
 */
import type { Clock, Logger } from "../base/index.ts";
import { parseUnlockKey } from "../ca/index.ts";
import { runControllerLoop } from "../manager/index.ts";
import type { Store } from "../store/types.ts";
import type { NodeKeys } from "./node-keys.ts";

/** The KEK the node must switch to, or undefined when it already holds the cluster's. */
export function kekChange(
  local: string | undefined,
  cluster: string | undefined,
): { unlockKey: string | undefined } | undefined {
  return (local ?? "") === (cluster ?? "") ? undefined : { unlockKey: cluster || undefined };
}

export interface KekWatchDeps {
  store: Store;
  keys: NodeKeys;
  clock: Clock;
  logger: Logger;
}

/** Runs until `signal` aborts; a failed rewrap is retried (the loop is level-triggered). */
export function watchUnlockKey(deps: KekWatchDeps, signal: AbortSignal): Promise<void> {
  const { store, keys, logger } = deps;
  return runControllerLoop(
    {
      name: "unlock-key",
      store,
      clock: deps.clock,
      logger,
      tables: ["clusters"],
      retryMs: 2000,
      step: async () => {
        const cluster = store.view((tx) => tx.list("clusters")[0]);
        // No cluster object yet (a manager still starting): nothing to follow.
        if (!cluster) return undefined;
        const change = kekChange(keys.unlockKey(), cluster.Shoal?.UnlockKey);
        if (!change) return undefined;
        await keys.setKek(change.unlockKey ? parseUnlockKey(change.unlockKey) : undefined);
        logger.info(
          { autolock: change.unlockKey !== undefined },
          "local keys rewrapped for the cluster's unlock key",
        );
        return undefined;
      },
    },
    signal,
  );
}
