/**
 * The replicated orchestrator's reconcile step (SwarmKit `orchestrator/replicated`), pure: one
 * service, its tasks and the nodes → decisions. Restarts failed tasks and tasks on down, drained or
 * deleted nodes; starts held replacements whose delay is over; keeps exactly `Replicas` runnable
 * slots, adding the lowest free slot numbers from 1 and, on scale-down, removing the slots on the
 * nodes that hold the most copies of the service, non-running ones first, then those still running
 * an outdated spec, highest slots first.
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import type { Ids } from "../../base/index.ts";
import { desiredOf, groupBy, invalidNode, isTaskDirty, stateOf } from "../common/index.ts";
import { type Decisions, Plan } from "./plan.ts";
import { restartTask, settleSlot, startDelayedTasks, updatableTasksInSlot } from "./restart.ts";
import { newTask, slotKey } from "./task.ts";

export interface ReconcileInput {
  service: SwarmService;
  /** The service's tasks. */
  tasks: readonly SwarmTask[];
  nodes: ReadonlyMap<string, Node>;
  now: number;
  ids: Ids;
}

export interface ReplicatedDecisions extends Decisions {
  /** The runnable slots kept, for the updater (tasks as they will be after these decisions). */
  slots: SwarmTask[][];
}

/** SwarmKit's restart trigger for replicated tasks: stopped, or on a node that is gone/down/drained. */
export function needsRestart(t: SwarmTask, nodes: ReadonlyMap<string, Node>): boolean {
  if (desiredOf(t) > TaskStates.running) return false;
  return stateOf(t) > TaskStates.running || (!!t.NodeID && invalidNode(nodes.get(t.NodeID)));
}

/** Tasks still on a node (assigned..running): deleting them would yank a live container. */
const isLive = (t: SwarmTask): boolean =>
  stateOf(t) >= TaskStates.assigned && stateOf(t) <= TaskStates.running;

export function reconcileReplicated(input: ReconcileInput): ReplicatedDecisions {
  const { service, nodes, ids } = input;
  const plan = new Plan(input.tasks, input.now, (t) => slotKey(service, t));
  for (const t of plan.tasks()) if (needsRestart(t, nodes)) restartTask({ plan, service, nodes, ids }, t);
  startDelayedTasks(plan, nodes);

  const bySlot = groupBy(plan.tasks(), (t) => t.Slot ?? 0);
  const runnable = new Map<number, SwarmTask[]>();
  const dead = new Map<number, SwarmTask[]>();
  for (const [slot, tasks] of bySlot) {
    const updatable = settleSlot(plan, service, updatableTasksInSlot(tasks, service), nodes);
    if (updatable.length > 0) runnable.set(slot, updatable);
    else dead.set(slot, tasks);
  }

  const replicas = service.Spec?.Mode?.Replicated?.Replicas ?? 1;
  let kept = [...runnable.values()];
  if (replicas > runnable.size) {
    let slot = 0;
    for (let i = runnable.size; i < replicas; i++) {
      do slot++;
      while (runnable.has(slot));
      dead.delete(slot); // the slot's history stays with its new task
      plan.create(newTask(service, { slot }, ids, input.now));
    }
  } else if (replicas < runnable.size) {
    const ordered = scaleDownOrder(
      kept,
      (t) => !isTaskDirty(service, t, t.NodeID ? nodes.get(t.NodeID) : undefined),
    );
    kept = ordered.slice(0, replicas);
    for (const slot of ordered.slice(replicas)) for (const t of slot) plan.setDesired(t, "remove");
  }
  // Dead slots are deleted (SwarmKit deletes them outright); shoal waits until their tasks have
  // left their nodes, because this step runs on every change rather than on service events.
  for (const tasks of dead.values()) for (const t of tasks) if (!isLive(t)) plan.delete(t.ID);

  return {
    ...plan.decisions(),
    slots: kept.map((slot) => slot.map((t) => plan.get(t.ID) ?? t)),
  };
}

/**
 * The order slots are kept in when scaling down; the tail is removed. Slots running an up-to-date
 * task first, then slots running an outdated one, then the rest, each by slot number; then each
 * single-task slot is numbered as the nth copy of the service on its node and slots are ordered by
 * that number (slots without a single placed task last), so the nodes holding the most copies lose
 * them first. SwarmKit ranks running slots alike whatever their spec; shoal keeps the updated ones
 * because a scale-down during a rolling update would otherwise keep a task the updater is about to
 * replace and remove the one that already serves the new spec: with stop-first and one replica
 * left, nothing serves until the replacement runs.
 */
export function scaleDownOrder(
  slots: SwarmTask[][],
  upToDate: (t: SwarmTask) => boolean = () => true,
): SwarmTask[][] {
  const tier = (slot: SwarmTask[]) => {
    const running = slot.filter((t) => t.Status?.State === "running");
    if (running.some(upToDate)) return 0;
    return running.length > 0 ? 1 : 2;
  };
  const byState = [...slots].sort((a, b) => tier(a) - tier(b) || (a[0]?.Slot ?? 0) - (b[0]?.Slot ?? 0));
  const perNode = new Map<string, number>();
  const indexed = byState.map((slot) => {
    const only = slot.length === 1 ? slot[0] : undefined;
    if (!only?.NodeID) return { slot, index: -1 };
    const index = (perNode.get(only.NodeID) ?? 0) + 1;
    perNode.set(only.NodeID, index);
    return { slot, index };
  });
  const rank = (i: number) => (i < 0 ? Number.MAX_SAFE_INTEGER : i);
  return indexed.sort((a, b) => rank(a.index) - rank(b.index)).map(({ slot }) => slot);
}
