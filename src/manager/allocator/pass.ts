/**
 * One allocation pass, pure: from a snapshot and the state rebuilt from it, decide every write.
 * Order as SwarmKit's allocator: networks (pending deletes first, then new networks, ingress
 * ahead), services (endpoints), tasks (attachments and addresses; new → pending), nodes (one
 * address per overlay network a node has live tasks on, plus ingress).
 */
import type { NetworkedTask, Service, SwarmNetworkAttachment, SwarmNetworkObject } from "../../api/index.ts";
import { isIngressNetwork } from "../../api/index.ts";
import { specsEqual } from "../common/spec.ts";
import { allocateTask, needsTaskAllocation } from "./allocate.ts";
import { planNodes } from "./attachments.ts";
import { allocateEndpoint, type Endpoint } from "./endpoint.ts";
import { type AllocSnapshot, isNetworkAllocated, networkOrder, taskHoldsAddresses } from "./rebuild.ts";
import type { AllocatorState } from "./state.ts";

export interface PassPlan {
  /** Networks that got their subnets, gateways and VNIs this pass. */
  networks: Map<string, SwarmNetworkObject>;
  /** Pending-delete networks no live task uses any more. */
  deleteNetworks: string[];
  services: Map<string, Endpoint>;
  tasks: Map<string, NetworkedTask>;
  /** New tasks that still wait, with the reason to show in their `Status.Err` (changed ones only). */
  taskErrors: Map<string, string>;
  nodes: Map<string, SwarmNetworkAttachment[]>;
  /** Networks in which something was handed out: their guard is bumped in the same commit. */
  guards: Set<string>;
  /** Why some objects wait (logged at debug; retried on the next change). */
  problems: string[];
}

export function planPass(snap: AllocSnapshot, state: AllocatorState, now: string): PassPlan {
  const plan: PassPlan = {
    networks: new Map(),
    deleteNetworks: [],
    services: new Map(),
    tasks: new Map(),
    taskErrors: new Map(),
    nodes: new Map(),
    guards: new Set(),
    problems: [],
  };
  const networks = planNetworks(snap, state, plan);
  const ingress = [...networks.values()].find(
    (n) => isIngressNetwork(n) && !n.PendingDelete && state.isAllocated(n.ID),
  );
  const endpoints = new Map<string, Endpoint>();
  const services = new Map<string, Service>();
  const serviceWaits = new Map<string, string>();
  for (const s of snap.services) {
    const r = allocateEndpoint(state, s, ingress);
    if (typeof r === "string") {
      plan.problems.push(`service ${s.ID}: ${r}`);
      serviceWaits.set(s.ID, `service ${s.Spec?.Name || s.ID}: ${r}`);
      continue;
    }
    services.set(s.ID, s);
    endpoints.set(s.ID, r.endpoint);
    if (!specsEqual(r.endpoint, s.Endpoint)) plan.services.set(s.ID, r.endpoint);
    for (const id of r.touched) plan.guards.add(id);
    if (r.tookPorts && ingress) plan.guards.add(ingress.ID);
  }
  for (const t of snap.tasks) {
    if (!needsTaskAllocation(t)) continue;
    const r = allocateTask(state, t, { services, endpoints, networks, ingress, now });
    if (typeof r === "string") {
      plan.problems.push(`task ${t.ID}: ${r}`);
      // the service's own reason says more than "service not allocated yet"
      const why = (t.ServiceID && serviceWaits.get(t.ServiceID)) || r;
      if ((t.Status?.Err ?? "") !== why) plan.taskErrors.set(t.ID, why);
      continue;
    }
    plan.tasks.set(t.ID, r.task);
    for (const id of r.touched) plan.guards.add(id);
  }
  const tasks = snap.tasks.map((t) => plan.tasks.get(t.ID) ?? t);
  planNodes(state, snap.nodes, tasks, networks, ingress, plan);
  return plan;
}

/** Pending deletes and new networks; returns every network as the rest of the pass sees it. */
function planNetworks(
  snap: AllocSnapshot,
  state: AllocatorState,
  plan: PassPlan,
): Map<string, SwarmNetworkObject> {
  const out = new Map<string, SwarmNetworkObject>();
  for (const n of networkOrder(snap.networks)) {
    if (n.PendingDelete && !snap.tasks.some((t) => taskHoldsAddresses(t) && usesNetwork(t, n.ID))) {
      plan.deleteNetworks.push(n.ID);
      state.dropNetwork(n);
      continue;
    }
    out.set(n.ID, n);
  }
  let networkLevel = false;
  for (const n of out.values()) {
    if (state.isAllocated(n.ID) || n.PendingDelete) continue;
    if (isNetworkAllocated(n)) {
      plan.problems.push(`network ${n.ID}: its stored allocation conflicts with another network's`);
      continue;
    }
    const r = state.allocateNetwork(n);
    if (typeof r === "string") {
      plan.problems.push(`network ${n.ID}: ${r}`);
      continue;
    }
    const allocated = { ...n, IPAMOptions: r.IPAMOptions, DriverState: r.DriverState };
    out.set(n.ID, allocated);
    plan.networks.set(n.ID, allocated);
    networkLevel = true;
  }
  // Subnets and VNIs are cluster-wide: a pass that hands one out guards every network.
  if (networkLevel) for (const id of out.keys()) plan.guards.add(id);
  return out;
}

const usesNetwork = (t: NetworkedTask, id: string): boolean =>
  (t.NetworksAttachments ?? []).some((a) => a.Network.ID === id) ||
  (t.Spec?.Networks ?? []).some((a) => a.Target === id);
