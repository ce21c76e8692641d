/**
 * Node attachments (SwarmKit's `Node.attachments`, the load-balancer addresses): each node gets
 * one address on every overlay network it has a live task on (state ≤ running), plus ingress.
 * The data plane gives the node that address on its bridge for node-originated traffic and for
 * the routing mesh's SNAT. An attachment no longer needed is dropped and its address freed.
 */
import type {
  NetworkedNode,
  NetworkedTask,
  SwarmNetworkAttachment,
  SwarmNetworkObject,
} from "../../api/index.ts";
import { networkCopy, nodeOwner, taskHoldsAddresses } from "./rebuild.ts";
import type { AllocatorState } from "./state.ts";

/** The overlay networks each node needs an address on. */
export function nodeNetworks(
  tasks: readonly NetworkedTask[],
  networks: ReadonlyMap<string, SwarmNetworkObject>,
  state: AllocatorState,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of tasks) {
    if (!t.NodeID || !taskHoldsAddresses(t)) continue;
    for (const a of t.NetworksAttachments ?? []) {
      if (!networks.has(a.Network.ID) || !state.isAllocated(a.Network.ID)) continue;
      const set = out.get(t.NodeID) ?? new Set<string>();
      set.add(a.Network.ID);
      out.set(t.NodeID, set);
    }
  }
  return out;
}

const sameAttachments = (
  a: readonly SwarmNetworkAttachment[],
  b: readonly SwarmNetworkAttachment[],
): boolean =>
  a.length === b.length &&
  a.every(
    (x, i) =>
      x.Network.ID === b[i]?.Network.ID && (x.Addresses ?? []).join() === (b[i]?.Addresses ?? []).join(),
  );

/** Where planNodes records its decisions (the pass plan's fields). */
export interface NodePlanSink {
  nodes: Map<string, SwarmNetworkAttachment[]>;
  guards: Set<string>;
  problems: string[];
}

export function planNodes(
  state: AllocatorState,
  nodes: readonly NetworkedNode[],
  tasks: readonly NetworkedTask[],
  networks: ReadonlyMap<string, SwarmNetworkObject>,
  ingress: SwarmNetworkObject | undefined,
  plan: NodePlanSink,
): void {
  const needs = nodeNetworks(tasks, networks, state);
  for (const node of nodes) {
    const owner = nodeOwner(node.ID);
    const wanted = needs.get(node.ID) ?? new Set<string>();
    if (ingress) wanted.add(ingress.ID);
    const current = node.Attachments ?? [];
    const next: SwarmNetworkAttachment[] = [];
    for (const a of current) {
      const addr = a.Addresses?.[0] ?? "";
      const network = networks.get(a.Network.ID);
      if (network && wanted.has(a.Network.ID) && state.holds(a.Network.ID, addr, owner)) {
        next.push({ Network: networkCopy(network), Addresses: [addr] });
        wanted.delete(a.Network.ID);
      } else {
        for (const x of a.Addresses ?? []) state.releaseAddress(a.Network.ID, x, owner);
      }
    }
    for (const id of [...wanted].sort()) {
      const network = networks.get(id);
      const addr = network ? state.allocateAddress(id, owner) : undefined;
      if (!network || !addr) {
        plan.problems.push(`node ${node.ID}: no address left on network ${id}`);
        continue;
      }
      plan.guards.add(id);
      next.push({ Network: networkCopy(network), Addresses: [addr] });
    }
    if (!sameAttachments(current, next)) plan.nodes.set(node.ID, next);
  }
}
