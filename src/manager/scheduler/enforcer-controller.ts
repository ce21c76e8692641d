/**
 * The constraint enforcer loop (leader only). Edge-triggered on purpose, as in SwarmKit: it acts
 * when a node changes (labels, resources, availability), never on a service change, because a
 * service whose constraints change is the updater's to roll out, not something to reject at once.
 * Each changed node is checked in one transaction that reads and writes together.
 */
import type { SwarmService, SwarmTask } from "../../api/index.ts";
import type { Clock, Logger } from "../../base/index.ts";
import type { ReadTx, Store } from "../../store/types.ts";
import { enforceConstraints } from "./enforcer.ts";

export interface EnforcerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

/** Below etcd's 128 writes per transaction; a node with more rejections takes several rounds. */
const MAX_REJECTIONS_PER_TX = 100;

/** Rejects the tasks node `nodeId` can no longer hold; returns how many. */
export async function enforceNode(deps: EnforcerDeps, nodeId: string): Promise<number> {
  let total = 0;
  for (;;) {
    // Most node events (heartbeats) change nothing: look first, write only when there is work.
    if (deps.store.view((tx) => rejections(tx, nodeId, deps.clock.now()).length) === 0) return total;
    const n = await deps.store.update((tx) => {
      const rejected = rejections(tx, nodeId, deps.clock.now()).slice(0, MAX_REJECTIONS_PER_TX);
      for (const t of rejected) tx.update("tasks", t);
      return rejected.length;
    });
    total += n;
    if (n < MAX_REJECTIONS_PER_TX) return total;
  }
}

function rejections(tx: ReadTx, nodeId: string, now: number): SwarmTask[] {
  const node = tx.get("nodes", nodeId);
  if (!node) return [];
  const tasks = tx.lookup("tasks", "node", nodeId);
  const services = new Map<string, SwarmService>();
  for (const t of tasks) {
    const s = t.ServiceID ? tx.get("services", t.ServiceID) : undefined;
    if (s) services.set(s.ID, s);
  }
  return enforceConstraints(node, tasks, services, now);
}

/** Watches node creates and updates until the signal aborts. */
export async function runConstraintEnforcer(deps: EnforcerDeps, signal: AbortSignal): Promise<void> {
  const { result: nodeIds, events } = deps.store.viewAndWatch((tx) => tx.list("nodes").map((n) => n.ID), {
    tables: ["nodes"],
    signal,
  });
  // A new leader checks every node once: changes may have happened while no one was enforcing.
  for (const id of nodeIds) await enforceNode(deps, id);
  for await (const event of events) {
    if (event.kind === "delete") continue;
    try {
      const rejected = await enforceNode(deps, event.object.ID);
      if (rejected > 0)
        deps.logger.info({ "node.id": event.object.ID, rejected }, "tasks rejected by constraint enforcer");
    } catch (err) {
      // A conflicting write means the node's tasks changed; the next node event checks again.
      deps.logger.warn({ err, "node.id": event.object.ID }, "constraint enforcement failed");
    }
  }
}
