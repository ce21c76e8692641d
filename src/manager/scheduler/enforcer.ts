/**
 * The constraint enforcer as a pure function (SwarmKit `constraintenforcer`): after a node changes,
 * which of its live tasks no longer fit it, because its labels no longer satisfy the service's
 * current constraints or its resources no longer cover the reservations. Those tasks are marked
 * REJECTED (observed state, so the orchestrator restarts them elsewhere per restart policy).
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import {
  desiredOf,
  isoTime,
  nodeMatches,
  nodeResources,
  reservationsOf,
  stateOf,
  tryParseConstraints,
} from "../common/index.ts";

export const MSG_ENFORCER_REJECTED = "task rejected by constraint enforcer";
export const ERR_NO_LONGER_MEETS = "assigned node no longer meets constraints";

/**
 * Tasks on `node` to reject, already rewritten as REJECTED. Paused and drained nodes are left
 * alone (drain is the orchestrator's job; pause means "touch nothing"). Tasks are checked in ID
 * order and each accepted one consumes its reservations, so when resources shrink the tasks that
 * no longer fit are the later ones.
 */
export function enforceConstraints(
  node: Node,
  tasksOnNode: readonly SwarmTask[],
  services: ReadonlyMap<string, SwarmService>,
  now: number,
): SwarmTask[] {
  if ((node.Spec?.Availability ?? "active") !== "active") return [];
  const available = nodeResources(node);
  const rejected: SwarmTask[] = [];
  const sorted = [...tasksOnNode].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  for (const t of sorted) {
    const desired = desiredOf(t);
    if (t.NodeID !== node.ID || desired < TaskStates.assigned || desired > TaskStates.complete) continue;
    // Completed tasks hold no reservations (replicated jobs leave them at desired COMPLETE).
    if (stateOf(t) >= TaskStates.complete) continue;
    if (!fits(t, node, services, available)) rejected.push(reject(t, now));
  }
  return rejected;
}

function fits(
  t: SwarmTask,
  node: Node,
  services: ReadonlyMap<string, SwarmService>,
  available: ReturnType<typeof nodeResources>,
): boolean {
  // The service's current placement wins over the task's copy: a constraints-only update leaves
  // tasks in place with outdated constraints.
  const service = t.ServiceID ? services.get(t.ServiceID) : undefined;
  const placement = service ? service.Spec?.TaskTemplate?.Placement : t.Spec?.Placement;
  if ((placement?.Constraints?.length ?? 0) > 0) {
    const constraints = tryParseConstraints(placement?.Constraints) ?? [];
    if (!nodeMatches(constraints, node)) return false;
  }
  const r = reservationsOf(t.Spec);
  if (r.memoryBytes > available.memoryBytes || r.nanoCPUs > available.nanoCPUs) return false;
  for (const [kind, n] of r.generic) if ((available.generic.get(kind) ?? 0) < n) return false;
  available.memoryBytes -= r.memoryBytes;
  available.nanoCPUs -= r.nanoCPUs;
  for (const [kind, n] of r.generic) available.generic.set(kind, (available.generic.get(kind) ?? 0) - n);
  return true;
}

function reject(t: SwarmTask, now: number): SwarmTask {
  return {
    ...t,
    Status: {
      ...t.Status,
      State: "rejected",
      Message: MSG_ENFORCER_REJECTED,
      Err: ERR_NO_LONGER_MEETS,
      Timestamp: isoTime(now),
    },
  };
}
