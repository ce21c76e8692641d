/**
 * The job reconcilers (SwarmKit `orchestrator/jobs/{replicated,global}`), pure. Job tasks run to
 * completion: desired state COMPLETE, tagged with the service's `JobIteration`; an update of the
 * service bumps the iteration, and tasks of older iterations are set desired REMOVE.
 *
 * - Replicated job: at most `MaxConcurrent` tasks at once until `TotalCompletions` have completed;
 *   slots are numbered from 0.
 * - Global job: one task per node that is active, ready and matches the constraints.
 *
 * Failed tasks are restarted per policy ("any" behaves as "on-failure" for jobs).
 */
import type { SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { desiredOf, invalidNode, stateOf } from "../common/index.ts";
import { serviceConstraintsMatch } from "./global.ts";
import { type Decisions, Plan } from "./plan.ts";
import type { ReconcileInput } from "./replicated.ts";
import { restartTask, startDelayedTasks } from "./restart.ts";
import { newTask, slotKey } from "./task.ts";

const iterationOf = (input: ReconcileInput): number => input.service.JobStatus?.JobIteration?.Index ?? 0;

/** Tasks of older iterations that have not stopped are set desired REMOVE. */
function removeOldIterations(plan: Plan, tasks: readonly SwarmTask[], iteration: number, all: boolean): void {
  for (const t of tasks) {
    if (!t.JobIteration || t.JobIteration.Index === iteration || t.DesiredState === "remove") continue;
    if (all || stateOf(t) <= TaskStates.running) plan.setDesired(t, "remove");
  }
}

export function reconcileReplicatedJob(input: ReconcileInput): Decisions {
  const { service, nodes, ids } = input;
  const iteration = iterationOf(input);
  const plan = new Plan(input.tasks, input.now, (t) => slotKey(service, t));
  let running = 0;
  let complete = 0;
  const usedSlots = new Set<number>();
  const restarts: SwarmTask[] = [];
  for (const t of input.tasks) {
    if (t.JobIteration?.Index !== iteration) continue;
    if (t.Status?.State === "complete") {
      complete++;
      usedSlots.add(t.Slot ?? 0);
    } else if (desiredOf(t) <= TaskStates.complete) {
      running++;
      usedSlots.add(t.Slot ?? 0);
      if (stateOf(t) > TaskStates.complete) restarts.push(t);
    }
  }
  const job = service.Spec?.Mode?.ReplicatedJob;
  const maxConcurrent = job?.MaxConcurrent ?? 1;
  const total = job?.TotalCompletions ?? maxConcurrent;
  const toCreate = Math.max(0, Math.min(maxConcurrent - running, total - complete - running));
  for (let i = 0; i < toCreate; i++) {
    let slot = 0;
    while (usedSlots.has(slot) && slot < total) slot++;
    usedSlots.add(slot);
    plan.create(newTask(service, { slot }, ids, input.now));
  }
  for (const t of restarts) restartTask({ plan, service, nodes, ids }, t);
  removeOldIterations(plan, input.tasks, iteration, false);
  startDelayedTasks(plan, nodes);
  return plan.decisions();
}

export function reconcileGlobalJob(input: ReconcileInput): Decisions {
  const { service, nodes, ids } = input;
  const iteration = iterationOf(input);
  const plan = new Plan(input.tasks, input.now, (t) => slotKey(service, t));
  const candidates: string[] = [];
  const invalid: string[] = [];
  for (const node of [...nodes.values()].sort((a, b) => (a.ID < b.ID ? -1 : 1))) {
    if (!serviceConstraintsMatch(service, node)) continue;
    if (invalidNode(node)) invalid.push(node.ID);
    else if ((node.Spec?.Availability ?? "active") === "active" && node.Status?.State === "ready")
      candidates.push(node.ID);
  }
  const taskOnNode = new Map<string, SwarmTask>();
  const restarts: SwarmTask[] = [];
  for (const t of input.tasks) {
    if (t.JobIteration?.Index !== iteration || desiredOf(t) > TaskStates.complete) continue;
    if (stateOf(t) > TaskStates.complete) restarts.push(t);
    taskOnNode.set(t.NodeID ?? "", t);
  }
  for (const nodeId of candidates) {
    if (!taskOnNode.has(nodeId)) plan.create(newTask(service, { nodeId }, ids, input.now));
  }
  for (const t of restarts) restartTask({ plan, service, nodes, ids }, t);
  removeOldIterations(plan, input.tasks, iteration, true);
  for (const nodeId of invalid) {
    const t = taskOnNode.get(nodeId);
    if (t && stateOf(t) <= TaskStates.running) plan.setDesired(t, "shutdown");
  }
  startDelayedTasks(plan, nodes);
  return plan.decisions();
}
