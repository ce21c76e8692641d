/**
 * One scheduling pass as a pure function: (nodes, tasks, now) → status updates. Pending tasks that
 * already name a node (global services, global jobs) are only checked against that node; the rest
 * are grouped by service and spec, and each group is spread over the nodes as one batch, so a pass
 * costs about O(tasks + nodes·log nodes) per group rather than O(tasks × nodes).
 */
import type { Node, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { canonicalJson, desiredOf, isoTime, stateOf, taskTimestamp } from "../common/index.ts";
import { requirementsOf } from "./filters.ts";
import { activeOfService, addTask, buildNodeInfos, type NodeInfo } from "./nodeinfo.ts";
import { noSuitableNode, Pipeline } from "./pipeline.ts";
import { buildTree, type NodeLess, Spreader } from "./spread.ts";

/** A node with this many failures of a service within MONITOR_FAILURES_MS is used last. */
export const MAX_FAILURES = 5;
export const MONITOR_FAILURES_MS = 5 * 60_000;

export const MSG_ASSIGNED = "scheduler assigned task to node";
export const MSG_PREASSIGNED = "scheduler confirmed task can run on preassigned node";

export interface SchedulerInput {
  nodes: readonly Node[];
  /** Every task in the store (the ones on nodes count against those nodes). */
  tasks: readonly SwarmTask[];
  now: number;
}

export interface SchedulingDecisions {
  /** Tasks to write back: assigned ones, pending ones with a new explanation, stale ones shut down. */
  updates: SwarmTask[];
  /** taskId → nodeId for the tasks assigned in this pass. */
  assignments: Map<string, string>;
  /** taskId → `Status.Err` for the tasks left pending. */
  pending: Map<string, string>;
}

const groupKey = (t: SwarmTask): string =>
  `${t.ServiceID ?? ""}\u0000${t.SpecVersion?.Index !== undefined ? `v${t.SpecVersion.Index}` : canonicalJson(t.Spec)}`;

/** Per node, how many tasks of each group failed or were rejected there within the lookback window. */
function recentFailures(tasks: readonly SwarmTask[], now: number): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const t of tasks) {
    const state = t.Status?.State;
    if ((state !== "failed" && state !== "rejected") || !t.NodeID) continue;
    const at = taskTimestamp(t);
    if (at === undefined || now - at > MONITOR_FAILURES_MS) continue;
    const key = groupKey(t);
    const byNode = out.get(key) ?? new Map<string, number>();
    byNode.set(t.NodeID, (byNode.get(t.NodeID) ?? 0) + 1);
    out.set(key, byNode);
  }
  return out;
}

function nodeLessFor(serviceId: string, failures: Map<string, number> | undefined): NodeLess {
  return (a, b) => {
    const fa = failures?.get(a.id) ?? 0;
    const fb = failures?.get(b.id) ?? 0;
    if ((fa >= MAX_FAILURES || fb >= MAX_FAILURES) && fa !== fb) return fa < fb;
    const sa = activeOfService(a, serviceId);
    const sb = activeOfService(b, serviceId);
    if (sa !== sb) return sa < sb;
    return a.activeTasks < b.activeTasks;
  };
}

export function schedule(input: SchedulerInput): SchedulingDecisions {
  const { now } = input;
  const infos = buildNodeInfos(input.nodes, input.tasks);
  const out: SchedulingDecisions = { updates: [], assignments: new Map(), pending: new Map() };
  const assigned = (t: SwarmTask, info: NodeInfo, message: string): void => {
    const next: SwarmTask = {
      ...t,
      NodeID: info.id,
      Status: { State: "assigned", Timestamp: isoTime(now), Message: message },
    };
    addTask(info, next);
    out.updates.push(next);
    out.assignments.set(t.ID, info.id);
  };
  const leftPending = (t: SwarmTask, err: string): void => {
    out.pending.set(t.ID, err);
    if (t.Status?.Err === err) return; // unchanged: SwarmKit skips the write
    out.updates.push({ ...t, Status: { ...t.Status, Timestamp: isoTime(now), Err: err } });
  };

  const groups = new Map<string, SwarmTask[]>();
  const preassigned: SwarmTask[] = [];
  for (const t of input.tasks) {
    if (stateOf(t) !== TaskStates.pending) continue;
    if (desiredOf(t) > TaskStates.complete) {
      // Shut down or removed before it was placed: it will never run, so it takes no node.
      out.updates.push({
        ...t,
        Status: { ...t.Status, State: "shutdown", Timestamp: isoTime(now), Err: "" },
      });
      continue;
    }
    if (t.NodeID) {
      preassigned.push(t);
      continue;
    }
    const key = groupKey(t);
    const group = groups.get(key) ?? [];
    group.push(t);
    groups.set(key, group);
  }

  // Preassigned tasks first: global services should start before the rest takes the room.
  for (const t of sortTasks(preassigned)) {
    const info = infos.get(t.NodeID as string);
    if (!info) continue; // node gone: the orchestrator deals with it
    const pipeline = new Pipeline(requirementsOf(t));
    if (pipeline.passes(info)) assigned(t, info, MSG_PREASSIGNED);
    else leftPending(t, pipeline.explain([info]));
  }

  const failures = recentFailures(input.tasks, now);
  for (const [key, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const tasks = sortTasks(group);
    const first = tasks[0] as SwarmTask;
    const pipeline = new Pipeline(requirementsOf(first));
    const less = nodeLessFor(first.ServiceID ?? "", failures.get(key));
    const descriptors = (first.Spec?.Placement?.Preferences ?? []).flatMap((p) =>
      p.Spread?.SpreadDescriptor !== undefined ? [p.Spread.SpreadDescriptor] : [],
    );
    const tree = buildTree(infos.values(), first.ServiceID ?? "", descriptors, tasks.length, pipeline, less);
    const queue = { tasks, next: 0 };
    new Spreader(pipeline, less, (t, info) => assigned(t, info, MSG_ASSIGNED)).onSubtree(
      tasks.length,
      queue,
      tree,
    );
    if (queue.next < tasks.length) {
      const err = noSuitableNode(pipeline.explain(infos.values()));
      for (const t of tasks.slice(queue.next)) leftPending(t, err);
    }
  }
  return out;
}

/** Slot order, then ID: placements do not depend on the order the store lists tasks in. */
function sortTasks(tasks: SwarmTask[]): SwarmTask[] {
  return tasks.sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
}
