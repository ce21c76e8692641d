/**
 * The scheduler's view of one node: what is left of its resources after the tasks it already holds,
 * how many active tasks it runs (in total and per service), and which host ports are taken.
 * Mirrors SwarmKit's `NodeInfo`; built fresh from a snapshot for every scheduling pass.
 */
import type { Node, SwarmTask } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import {
  desiredOf,
  hostPortsOf,
  nodeResources,
  type Reservations,
  reservationsOf,
  stateOf,
} from "../common/index.ts";

export interface NodeInfo {
  id: string;
  node: Node;
  /** Resources left: described resources minus the reservations of the tasks on the node. */
  available: Reservations;
  /** Tasks with desired state ≤ complete on the node. */
  activeTasks: number;
  activeByService: Map<string, number>;
  /** `protocol/port` keys of host-mode published ports in use. */
  usedHostPorts: Set<string>;
  /** IDs of the tasks counted here, so a task is never counted twice. */
  taskIds: Set<string>;
}

export function newNodeInfo(node: Node): NodeInfo {
  const described = nodeResources(node);
  return {
    id: node.ID,
    node,
    available: { ...described, generic: new Map(described.generic) },
    activeTasks: 0,
    activeByService: new Map(),
    usedHostPorts: new Set(),
    taskIds: new Set(),
  };
}

/**
 * Whether a task occupies its node as far as the scheduler is concerned: SwarmKit tracks tasks from
 * ASSIGNED to RUNNING (pending preassigned tasks are only checked, not counted; stopped tasks free
 * their resources).
 */
export function occupiesNode(t: SwarmTask): boolean {
  const state = stateOf(t);
  return !!t.NodeID && state > TaskStates.pending && state <= TaskStates.running;
}

/** Counts a task on the node (resources, ports, active counts). Returns false if already counted. */
export function addTask(info: NodeInfo, t: SwarmTask): boolean {
  if (info.taskIds.has(t.ID)) return false;
  info.taskIds.add(t.ID);
  const r = reservationsOf(t.Spec);
  info.available.nanoCPUs -= r.nanoCPUs;
  info.available.memoryBytes -= r.memoryBytes;
  for (const [kind, n] of r.generic)
    info.available.generic.set(kind, (info.available.generic.get(kind) ?? 0) - n);
  for (const port of hostPortsOf(t)) info.usedHostPorts.add(port);
  if (desiredOf(t) <= TaskStates.complete) {
    info.activeTasks++;
    const service = t.ServiceID ?? "";
    info.activeByService.set(service, (info.activeByService.get(service) ?? 0) + 1);
  }
  return true;
}

/** NodeInfos for every node, with the tasks that occupy them counted. */
export function buildNodeInfos(nodes: readonly Node[], tasks: readonly SwarmTask[]): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const n of nodes) infos.set(n.ID, newNodeInfo(n));
  for (const t of tasks) {
    if (!occupiesNode(t)) continue;
    const info = infos.get(t.NodeID as string);
    if (info) addTask(info, t);
  }
  return infos;
}

export const activeOfService = (info: NodeInfo, serviceId: string): number =>
  info.activeByService.get(serviceId) ?? 0;
