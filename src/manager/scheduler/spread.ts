/**
 * Spreading a group of identical tasks over the nodes that pass the filters, as SwarmKit's
 * `scheduleTaskGroup` does: a decision tree with one level per `spread=` placement preference
 * (branches keyed by the label's value, "" for nodes without it), an even share of the service's
 * tasks per branch, and at the leaves the least-loaded nodes first (fewest tasks of this service,
 * then fewest tasks overall), filling each node until it is no better than the next one, then
 * round-robin. Nodes are re-checked against the filters before reuse (resources shrink).
 */
import type { Node, SwarmTask } from "../../api/index.ts";
import { ENGINE_LABEL_PREFIX, hasPrefixFold, NODE_LABEL_PREFIX } from "../common/index.ts";
import { activeOfService, type NodeInfo } from "./nodeinfo.ts";
import type { Pipeline } from "./pipeline.ts";

export type NodeLess = (a: NodeInfo, b: NodeInfo) => boolean;

export interface DecisionTree {
  /** Tasks of this service already in this subtree (before this pass, as in SwarmKit). */
  tasks: number;
  next?: Map<string, DecisionTree>;
  /** Leaves: the best nodes that pass the filters, at most as many as there are tasks to place. */
  nodes: NodeInfo[];
}

/** The label value a spread descriptor reads from a node; undefined for unsupported descriptors. */
export function spreadValue(descriptor: string, node: Node): string | undefined {
  if (hasPrefixFold(descriptor, NODE_LABEL_PREFIX)) {
    return node.Spec?.Labels?.[descriptor.slice(NODE_LABEL_PREFIX.length)] ?? "";
  }
  if (hasPrefixFold(descriptor, ENGINE_LABEL_PREFIX)) {
    return node.Description?.Engine?.Labels?.[descriptor.slice(ENGINE_LABEL_PREFIX.length)] ?? "";
  }
  return undefined;
}

/** Sorts best first; ties broken by node ID so a pass is deterministic (SwarmKit's is random). */
export function sortNodes(nodes: NodeInfo[], less: NodeLess): NodeInfo[] {
  return nodes.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function buildTree(
  infos: Iterable<NodeInfo>,
  serviceId: string,
  descriptors: readonly string[],
  maxAssignments: number,
  pipeline: Pipeline,
  less: NodeLess,
): DecisionTree {
  const root: DecisionTree = { tasks: 0, nodes: [] };
  if (maxAssignments === 0) return root;
  const leaves = new Set<DecisionTree>();
  for (const info of infos) {
    let tree = root;
    for (const descriptor of descriptors) {
      const value = spreadValue(descriptor, info.node);
      if (value === undefined) continue;
      tree.tasks += activeOfService(info, serviceId);
      tree.next ??= new Map();
      let next = tree.next.get(value);
      if (!next) {
        next = { tasks: 0, nodes: [] };
        tree.next.set(value, next);
      }
      tree = next;
    }
    tree.tasks += activeOfService(info, serviceId);
    leaves.add(tree);
    if (pipeline.passes(info)) tree.nodes.push(info);
  }
  for (const leaf of leaves) leaf.nodes = sortNodes(leaf.nodes, less).slice(0, maxAssignments);
  return root;
}

/** Receives each placement as it is made; it must count the task on the node. */
export type Assign = (task: SwarmTask, node: NodeInfo) => void;

export interface TaskQueue {
  tasks: readonly SwarmTask[];
  next: number;
}

export class Spreader {
  constructor(
    private readonly pipeline: Pipeline,
    private readonly less: NodeLess,
    private readonly assign: Assign,
  ) {}

  /** Places up to n tasks from the queue in this subtree; returns how many it placed. */
  onSubtree(n: number, queue: TaskQueue, tree: DecisionTree): number {
    if (!tree.next) {
      const nodes = sortNodes(
        tree.nodes.filter((i) => this.pipeline.passes(i)),
        this.less,
      );
      tree.nodes = nodes;
      return nodes.length === 0 ? 0 : this.onNodes(n, queue, nodes);
    }
    const branches = [...tree.next.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, t]) => t);
    let scheduled = 0;
    let usable = tree.tasks;
    const noRoom = new Set<DecisionTree>();
    let converging = true;
    while (scheduled !== n && noRoom.size !== branches.length && converging) {
      const open = branches.length - noRoom.size;
      const desired = Math.floor((usable + n - scheduled) / open);
      let remainder = (usable + n - scheduled) % open;
      converging = false;
      for (const subtree of branches) {
        if (noRoom.has(subtree)) continue;
        if (subtree.tasks < desired || (subtree.tasks === desired && remainder > 0)) {
          converging = true;
          const toAssign = desired - subtree.tasks + (remainder > 0 ? 1 : 0);
          const placed = this.onSubtree(toAssign, queue, subtree);
          if (placed < toAssign) {
            noRoom.add(subtree);
            usable -= subtree.tasks;
          } else if (remainder > 0) {
            remainder--;
          }
          scheduled += placed;
        }
      }
    }
    return scheduled;
  }

  /** SwarmKit's `scheduleNTasksOnNodes` over nodes sorted best first. */
  private onNodes(n: number, queue: TaskQueue, nodes: NodeInfo[]): number {
    let scheduled = 0;
    let iter = 0;
    const count = nodes.length;
    const failed = new Set<number>();
    while (queue.next < queue.tasks.length) {
      const task = queue.tasks[queue.next++] as SwarmTask;
      const node = nodes[iter % count] as NodeInfo;
      this.assign(task, node);
      scheduled++;
      if (scheduled === n) return scheduled;
      // First pass: fill each node until the next one is better; later passes: round-robin.
      if (iter + 1 < count) {
        if (this.less(nodes[(iter + 1) % count] as NodeInfo, node)) iter++;
      } else {
        iter++;
      }
      const start = iter;
      while (failed.has(iter % count) || !this.pipeline.passes(nodes[iter % count] as NodeInfo)) {
        failed.add(iter % count);
        iter++;
        if (iter - start === count) return scheduled;
      }
    }
    return scheduled;
  }
}
