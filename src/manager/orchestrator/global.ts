/**
 * The global orchestrator's reconcile step (SwarmKit `orchestrator/global`), pure: one task per
 * node that is neither drained nor down and matches the service's constraints, created with its
 * `NodeID` set and slot 0. Paused nodes keep what they run but get nothing new, and a failed task
 * there is shut down rather than restarted; tasks on drained, down or mismatched nodes are shut
 * down (not replaced); tasks on deleted nodes are deleted.
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import {
  desiredOf,
  groupBy,
  invalidNode,
  nodeMatches,
  stateOf,
  tryParseConstraints,
} from "../common/index.ts";
import { Plan } from "./plan.ts";
import type { ReconcileInput, ReplicatedDecisions } from "./replicated.ts";
import { restartTask, settleSlot, startDelayedTasks, updatableTasksInSlot } from "./restart.ts";
import { newTask, slotKey } from "./task.ts";

/** Nodes a global service may run on at all: SwarmKit drops drained and down nodes from its set. */
export const globalEligible = (node: Node): boolean =>
  node.Spec?.Availability !== "drain" && node.Status?.State !== "down";

export function serviceConstraintsMatch(service: SwarmService, node: Node): boolean {
  return nodeMatches(tryParseConstraints(service.Spec?.TaskTemplate?.Placement?.Constraints) ?? [], node);
}

export function reconcileGlobal(input: ReconcileInput): ReplicatedDecisions {
  const { service, nodes, ids } = input;
  const plan = new Plan(input.tasks, input.now, (t) => slotKey(service, t));

  for (const t of plan.tasks()) {
    if (!t.NodeID || !nodes.has(t.NodeID)) plan.delete(t.ID); // its node was removed
  }
  for (const t of plan.tasks()) {
    if (desiredOf(t) > TaskStates.running) continue;
    const node = nodes.get(t.NodeID as string) as Node;
    if (stateOf(t) <= TaskStates.running && !invalidNode(node)) continue;
    if (!globalEligible(node)) continue; // shut down below, never restarted
    if (node.Spec?.Availability === "pause" || !serviceConstraintsMatch(service, node))
      plan.setDesired(t, "shutdown");
    else restartTask({ plan, service, nodes, ids }, t);
  }
  startDelayedTasks(plan, nodes);

  const byNode = groupBy(plan.tasks(), (t) => t.NodeID ?? "");
  const slots: SwarmTask[][] = [];
  for (const node of [...nodes.values()].sort((a, b) => (a.ID < b.ID ? -1 : 1))) {
    const updatable = settleSlot(
      plan,
      service,
      updatableTasksInSlot(byNode.get(node.ID) ?? [], service),
      nodes,
    );
    if (!globalEligible(node) || !serviceConstraintsMatch(service, node)) {
      for (const t of updatable) plan.setDesired(t, "shutdown");
      continue;
    }
    if (node.Spec?.Availability === "pause") continue;
    if (updatable.length === 0) plan.create(newTask(service, { nodeId: node.ID }, ids, input.now));
    else slots.push(updatable.map((t) => plan.get(t.ID) ?? t));
  }
  return { ...plan.decisions(), slots };
}
