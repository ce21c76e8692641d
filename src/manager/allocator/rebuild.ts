/**
 * Rebuilding the allocator's state from the store: everything handed out lives in the stored
 * objects (networks' IPAM and VNIs, services' VIPs and published ports, live tasks' addresses,
 * nodes' attachments), so a new leader, or the next pass, sees exactly what is in use.
 */
import type { NetworkedNode, NetworkedTask, Service, SwarmNetworkObject } from "../../api/index.ts";
import { isIngressNetwork, TaskStates } from "../../api/index.ts";
import { parsePrefix } from "../common/cidr.ts";
import { type AllocatorConfig, AllocatorState, type Cursors, PROTOCOLS } from "./state.ts";

/** What one pass reads: the tables the allocator allocates for. */
export interface AllocSnapshot {
  networks: SwarmNetworkObject[];
  services: Service[];
  tasks: NetworkedTask[];
  nodes: NetworkedNode[];
}

export const svcOwner = (id: string): string => `svc:${id}`;
export const taskOwner = (id: string): string => `task:${id}`;
export const nodeOwner = (id: string): string => `node:${id}`;

/** A network is allocated once it has pools with subnet and gateway and a VNI per pool. */
export function isNetworkAllocated(n: SwarmNetworkObject): boolean {
  const configs = n.IPAMOptions?.Configs ?? [];
  const vnis = n.DriverState?.Options?.["com.docker.network.driver.overlay.vxlanid_list"] ?? "";
  return configs.length > 0 && configs.every((c) => c.Subnet && c.Gateway) && vnis !== "";
}

/** A network as attachments carry it: no allocator-private fields. */
export function networkCopy(n: SwarmNetworkObject): SwarmNetworkObject {
  const { Allocator: _guard, PendingDelete: _pending, ...rest } = structuredClone(n);
  return rest;
}

/** A task holds its addresses until it stops (SwarmKit frees them past RUNNING). */
export const taskHoldsAddresses = (t: NetworkedTask): boolean =>
  TaskStates[t.Status?.State ?? "new"] <= TaskStates.running;

/** Networks in allocation order: ingress first (it gets the first subnet), then by age. */
export function networkOrder(networks: readonly SwarmNetworkObject[]): SwarmNetworkObject[] {
  const key = (n: SwarmNetworkObject) => `${isIngressNetwork(n) ? 0 : 1}|${n.CreatedAt ?? ""}|${n.ID}`;
  return [...networks].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function rebuildState(
  snap: AllocSnapshot,
  config: AllocatorConfig,
  cursors?: Cursors,
): AllocatorState {
  const state = new AllocatorState(config, cursors);
  const ordered = networkOrder(snap.networks);
  for (const n of ordered) if (isNetworkAllocated(n)) state.restoreNetwork(n);
  for (const n of ordered) {
    if (state.isAllocated(n.ID)) continue;
    for (const c of n.Spec.IPAMOptions?.Configs ?? []) {
      const prefix = parsePrefix(c.Subnet ?? "");
      if (prefix) state.claimSubnet(prefix, n.ID);
    }
  }
  for (const s of snap.services) restoreService(state, s);
  for (const t of snap.tasks) {
    if (!taskHoldsAddresses(t)) continue;
    for (const a of t.NetworksAttachments ?? []) {
      for (const addr of a.Addresses ?? []) state.reserveAddress(a.Network.ID, addr, taskOwner(t.ID));
    }
  }
  for (const node of snap.nodes) {
    for (const a of node.Attachments ?? []) {
      for (const addr of a.Addresses ?? []) state.reserveAddress(a.Network.ID, addr, nodeOwner(node.ID));
    }
  }
  state.resumeCursors();
  return state;
}

function restoreService(state: AllocatorState, s: Service): void {
  const owner = svcOwner(s.ID);
  for (const vip of s.Endpoint?.VirtualIPs ?? []) {
    if (vip.NetworkID && vip.Addr) state.reserveAddress(vip.NetworkID, vip.Addr, owner);
  }
  for (const p of s.Endpoint?.Ports ?? []) {
    if (p.PublishMode === "host" || !p.PublishedPort) continue;
    const protocol = PROTOCOLS.find((x) => x === p.Protocol) ?? "tcp";
    const space = state.portSpace(protocol);
    if (!space.reserve(p.PublishedPort, owner)) {
      state.conflicts.push(
        `port ${protocol}/${p.PublishedPort}: held by ${space.owner(p.PublishedPort)}, wanted by ${owner}`,
      );
    }
  }
}
