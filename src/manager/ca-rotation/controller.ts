/**
 * The root rotation loop (leader only): watch → decideRotation → one transaction. Marking nodes is
 * re-checked in the transaction (a node may have renewed meanwhile); finishing checks that the
 * rotation is still the one decided on (a new `swarm ca --rotate` may have replaced it).
 */
import type { Clock, Ids, Logger } from "../../base/index.ts";
import { timestamp } from "../../base/index.ts";
import { finishRotation, rootCAStateOf, withRootCAState } from "../../ca/index.ts";
import type { Store } from "../../store/types.ts";
import { runControllerLoop } from "../common/loop.ts";
import { decideRotation, ROTATE_INTERVAL_MS, unconvergedNodes } from "./reconcile.ts";

export interface RotationDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

export async function rotationStep(deps: RotationDeps, now: number): Promise<{ wakeAt?: number }> {
  const { store, ids, logger, clock } = deps;
  const decision = store.view((tx) => decideRotation(tx.list("clusters")[0], tx.list("nodes")));
  if (decision.kind === "idle") return {};
  if (decision.kind === "finish") {
    const finished = await store.update((tx) => {
      const cluster = tx.list("clusters")[0];
      if (!cluster || decideRotation(cluster, tx.list("nodes")).kind !== "finish") return false;
      const next = withRootCAState(cluster, finishRotation(rootCAStateOf(cluster)), ids);
      tx.update("clusters", { ...next, UpdatedAt: timestamp(clock) });
      return true;
    });
    if (finished) logger.info({}, "completed root rotation");
    return {};
  }
  if (decision.nodeIds.length > 0) {
    await store.update((tx) => {
      const cluster = tx.list("clusters")[0];
      if (!cluster) return;
      const chosen = new Set(decision.nodeIds);
      for (const node of unconvergedNodes(cluster, tx.list("nodes"))) {
        if (!chosen.has(node.ID) || node.Certificate?.State === "rotate") continue;
        tx.update("nodes", { ...node, Certificate: { State: "rotate" } });
      }
    });
    logger.info(
      { nodes: decision.nodeIds.length, waiting: decision.waiting },
      "root rotation: nodes told to renew their certificates",
    );
  }
  return { wakeAt: now + ROTATE_INTERVAL_MS };
}

export function runRootRotation(deps: RotationDeps, signal: AbortSignal): Promise<void> {
  return runControllerLoop(
    {
      name: "ca-rotation",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["clusters", "nodes"],
      step: (now) => rotationStep(deps, now),
    },
    signal,
  );
}
