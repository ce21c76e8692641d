/**
 * Which tasks a node is told about, and how a set changes: pure functions the sessions use.
 * A node gets every task assigned to it from the moment the scheduler assigns it (state ≥ assigned)
 * until the task is deleted from the store; it shuts down what the desired state says and removes a
 * container only when its task is gone, so `docker ps -a` keeps stopped task containers as Swarm does.
 */
import type { AssignmentMessage, Task } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";

export function isAssignedTo(task: Task, nodeId: string): boolean {
  return task.NodeID === nodeId && TaskStates[task.Status?.State ?? "new"] >= TaskStates.assigned;
}

/** The complete set for a node, sorted by ID so it is deterministic. */
export function completeAssignment(tasks: readonly Task[], nodeId: string): AssignmentMessage {
  const mine = tasks.filter((t) => isAssignedTo(t, nodeId)).sort((a, b) => a.ID.localeCompare(b.ID));
  return { kind: "complete", tasks: mine, removed: [] };
}

/**
 * Folds task changes into what the node knows: `known` maps task ID → version last sent. Returns the
 * incremental message (undefined when nothing changed for this node) and updates `known`.
 */
export function incrementalAssignment(
  known: Map<string, number>,
  changed: ReadonlyArray<{ task: Task; deleted: boolean }>,
  nodeId: string,
): AssignmentMessage | undefined {
  const latest = new Map<string, { task: Task; deleted: boolean }>();
  for (const c of changed) latest.set(c.task.ID, c);
  const tasks: Task[] = [];
  const removed: string[] = [];
  for (const [id, { task, deleted }] of latest) {
    const relevant = !deleted && isAssignedTo(task, nodeId);
    if (relevant) {
      const version = task.Version?.Index ?? 0;
      if (known.get(id) === version) continue;
      known.set(id, version);
      tasks.push(task);
    } else if (known.has(id)) {
      known.delete(id);
      removed.push(id);
    }
  }
  if (tasks.length === 0 && removed.length === 0) return undefined;
  tasks.sort((a, b) => a.ID.localeCompare(b.ID));
  return { kind: "incremental", tasks, removed: removed.sort() };
}

/**
 * Applies a reported status to a stored task, or says why not. Task state only moves forward; the
 * manager owns states up to `assigned`, the agent everything after.
 */
export function applyStatus(
  task: Task | undefined,
  nodeId: string,
  status: NonNullable<Task["Status"]>,
): { ok: true; task: Task } | { ok: false; reason: string } {
  if (!task) return { ok: false, reason: "task not found" };
  if (task.NodeID !== nodeId) return { ok: false, reason: "task is not assigned to this node" };
  const current = TaskStates[task.Status?.State ?? "new"];
  const next = TaskStates[status.State ?? "new"];
  if (next < TaskStates.assigned) return { ok: false, reason: "agents cannot report states before assigned" };
  if (next < current)
    return { ok: false, reason: `state ${status.State} is older than ${task.Status?.State}` };
  return { ok: true, task: { ...task, Status: { ...status } } };
}
