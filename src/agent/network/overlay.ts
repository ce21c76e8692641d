/**
 * Cross-node overlay planning (pure), per DESIGN §5: a VXLAN device on each network's bridge and,
 * for every task on that network running on another node, a static FDB entry (its MAC → that
 * node's address) and a permanent neighbour entry (its IP → its MAC). No flood entry is ever added,
 * so the shared gateway address never answers ARP across nodes.
 */
import type { NetworkPeers } from "../../api/index.ts";
import type { LocalNetwork } from "./plan.ts";

/** One remote container on a network: where its frames go. */
export interface RemoteEndpoint {
  ip: string;
  mac: string;
  /** The underlay address of its node. */
  node: string;
}

/** The VXLAN device of a network (≤ 15 characters). */
export const vxlanDevice = (n: LocalNetwork): string => `shv${n.vni}`;

/** dockerd 20.10's MAC for a container address: `02:42:` and the IPv4 address in hex. */
export function macOf(ip: string): string {
  const hex = ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0"));
  return ["02", "42", ...hex].join(":");
}

/** This node's underlay address, from the peer view. */
export function selfAddress(peers: NetworkPeers | undefined, nodeId: string): string | undefined {
  return peers?.nodes?.find((n) => n.ID === nodeId)?.Addr;
}

/** The remote endpoints on `networkId`: running tasks of other nodes whose node address is known. */
export function remoteEndpoints(
  peers: NetworkPeers | undefined,
  networkId: string,
  nodeId: string,
): RemoteEndpoint[] {
  if (!peers) return [];
  const addrOf = new Map((peers.nodes ?? []).map((n) => [n.ID, n.Addr]));
  const self = addrOf.get(nodeId);
  const out: RemoteEndpoint[] = [];
  for (const t of peers.tasks) {
    const node = addrOf.get(t.NodeID);
    if (t.NodeID === nodeId || !node || node === self) continue;
    for (const a of t.Addresses) {
      if (a.NetworkID !== networkId) continue;
      const ip = a.Addr.split("/")[0] ?? "";
      if (ip && !ip.includes(":")) out.push({ ip, mac: macOf(ip), node });
    }
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}

/** The `ip`/`bridge` commands that take a device's entries from `before` to `after`. */
export function entryCommands(
  device: string,
  before: readonly RemoteEndpoint[],
  after: readonly RemoteEndpoint[],
): string[][] {
  const key = (e: RemoteEndpoint) => `${e.ip} ${e.mac} ${e.node}`;
  const keep = new Set(after.map(key));
  const had = new Set(before.map(key));
  const cmds: string[][] = [];
  for (const e of before) {
    if (keep.has(key(e))) continue;
    cmds.push(["bridge", "fdb", "del", e.mac, "dev", device, "dst", e.node, "self"]);
    cmds.push(["ip", "neigh", "del", e.ip, "dev", device]);
  }
  for (const e of after) {
    if (had.has(key(e))) continue;
    cmds.push(["bridge", "fdb", "append", e.mac, "dev", device, "dst", e.node, "self", "permanent"]);
    cmds.push(["ip", "neigh", "replace", e.ip, "lladdr", e.mac, "dev", device, "nud", "permanent"]);
  }
  return cmds;
}

/** Creating the VXLAN device (when absent) and enslaving it to the network's bridge. */
export function vxlanCommands(n: LocalNetwork, localAddr: string, exists: boolean): string[][] {
  const dev = vxlanDevice(n);
  const add = ["ip", "link", "add", dev, "type", "vxlan", "id", String(n.vni), "dstport", "4789"];
  return [
    ...(exists ? [] : [[...add, "local", localAddr, "nolearning", "proxy"]]),
    ["ip", "link", "set", dev, "mtu", "1450", "master", n.bridge, "up"],
  ];
}
