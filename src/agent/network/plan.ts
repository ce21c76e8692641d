/**
 * Pure planning of the node's data plane from its tasks and the dispatcher's peer view: which
 * local bridge networks must exist (one per swarm network a live local task uses, with the
 * cluster's subnet and gateway), how each task container attaches to them, and the nftables VIP
 * rules inside each container's network namespace.
 */
import {
  isServing,
  type NetworkedTask,
  type NetworkPeers,
  type SwarmNetworkObject,
  type Task,
  TaskStates,
  VXLAN_ID_LIST_OPTION,
} from "../../api/index.ts";
import { taskName } from "../executor/container-config.ts";
import type { NetworkEndpoint } from "../executor/spec.ts";

/** Labels on every local network shoal creates; the value of the second is the swarm network ID. */
export const LABEL_SHOAL_NETWORK = "io.shoal.network";
export const LABEL_SHOAL_NETWORK_ID = "io.shoal.network.id";
/** The network's VNI, so that a later daemon run can delete its VXLAN device. */
export const LABEL_SHOAL_VNI = "io.shoal.network.vni";
/** The shoal node that created (and may remove) the network. */
export const LABEL_SHOAL_NODE_ID = "io.shoal.node.id";
/** The nft table shoal owns in each container's netns. */
export const VIP_TABLE = "shoal_vip";
export const OVERLAY_MTU = 1450;

/** A local bridge network standing for a swarm network on this node. */
export interface LocalNetwork {
  /** The swarm network ID. */
  id: string;
  /** The dockerd network name, `shoal-<id12>`. */
  name: string;
  /** The Linux bridge device (≤ 15 characters). */
  bridge: string;
  subnet: string;
  gateway: string;
  /** The VXLAN VNI (0 when the allocator gave none). */
  vni: number;
  internal: boolean;
}

export const localNetworkName = (networkId: string): string => `shoal-${networkId.slice(0, 12)}`;

const attachmentsOf = (t: Task) => (t as NetworkedTask).NetworksAttachments ?? [];
const ip = (cidr: string): string => cidr.split("/")[0] ?? "";
const isV4 = (cidr: string): boolean => !cidr.includes(":");

/** The local form of an allocated swarm network, or undefined while it is not allocated. */
export function localNetworkOf(n: SwarmNetworkObject): LocalNetwork | undefined {
  const pool = n.IPAMOptions?.Configs?.find((c) => c.Subnet && isV4(c.Subnet));
  if (!pool?.Subnet || !pool.Gateway) return undefined;
  const vni = Number((n.DriverState?.Options?.[VXLAN_ID_LIST_OPTION] ?? "").split(",")[0] || 0);
  return {
    id: n.ID,
    name: localNetworkName(n.ID),
    bridge: `shl${n.ID.slice(0, 12)}`,
    subnet: pool.Subnet,
    gateway: ip(pool.Gateway),
    vni: Number.isFinite(vni) ? vni : 0,
    internal: n.Spec.Internal === true,
  };
}

/** A task still needs its networks while it may run: neither it nor its desired state is past running. */
export function needsNetworks(t: Task): boolean {
  return (
    TaskStates[t.Status?.State ?? "new"] <= TaskStates.running ||
    TaskStates[t.DesiredState ?? "running"] <= TaskStates.running
  );
}

/**
 * The local networks the node's tasks need, by swarm network ID, plus `mesh` (the ingress network
 * while the node is in the routing mesh, tasks or not).
 */
export function wantedNetworks(tasks: Iterable<Task>, mesh?: LocalNetwork): Map<string, LocalNetwork> {
  const out = new Map<string, LocalNetwork>();
  if (mesh) out.set(mesh.id, mesh);
  for (const t of tasks) {
    if (!needsNetworks(t)) continue;
    for (const a of attachmentsOf(t)) {
      if (out.has(a.Network.ID)) continue;
      const local = localNetworkOf(a.Network);
      if (local) out.set(local.id, local);
    }
  }
  return out;
}

/**
 * How the task's container joins its networks: the first at create, the others before start. A
 * task of a service publishing ingress ports is on ingress first (its address there is the mesh's
 * backend), as the allocator orders the attachments.
 */
export function taskEndpoints(task: Task, serviceName: string): NetworkEndpoint[] {
  const name = taskName(task, serviceName);
  return attachmentsOf(task)
    .filter((a) => localNetworkOf(a.Network))
    .map((a) => ({
      name: localNetworkName(a.Network.ID),
      addresses: (a.Addresses ?? []).filter(isV4),
      // neither the service name nor its network aliases (a stack's short names): dockerd's own DNS
      // would answer them with local task IPs; shoal's DNS answers them with the VIP, as Swarm does
      aliases: [name],
    }));
}

/** The swarm networks with service discovery and VIPs: all but ingress (as in Swarm). */
export function discoveryNetworks(task: Task): Set<string> {
  return new Set(
    attachmentsOf(task)
      .filter((a) => !a.Network.Spec?.Ingress && localNetworkOf(a.Network))
      .map((a) => a.Network.ID),
  );
}

/** One VIP and the addresses behind it. */
export interface VipBackends {
  vip: string;
  backends: string[];
}

/** The VIPs a container on `networks` reaches, with their running backends on the same network. */
export function vipBackends(peers: NetworkPeers | undefined, networks: ReadonlySet<string>): VipBackends[] {
  if (!peers) return [];
  const out: VipBackends[] = [];
  for (const s of peers.services) {
    if (s.Mode !== "vip") continue;
    for (const v of s.VirtualIPs) {
      if (!networks.has(v.NetworkID) || !isV4(v.Addr)) continue;
      const backends = peers.tasks
        .filter((t) => t.ServiceID === s.ID && isServing(t))
        .flatMap((t) => t.Addresses.filter((a) => a.NetworkID === v.NetworkID).map((a) => ip(a.Addr)))
        .sort();
      out.push({ vip: ip(v.Addr), backends });
    }
  }
  return out.sort((a, b) => a.vip.localeCompare(b.vip));
}

/**
 * The nft script that replaces the container's VIP table atomically: every port of a VIP is
 * DNATed to a random backend; a VIP without backends refuses at once. `chains` are added as they
 * are (the mesh's client-address marks, mesh-source.ts). One rule per line (nft 1.0.6 rejects a
 * rule followed by `}` on the same line).
 */
export function vipRuleset(vips: readonly VipBackends[], chains: readonly string[] = []): string {
  const rules = vips.map(({ vip, backends }) => {
    if (backends.length === 0) return `    ip daddr ${vip} reject`;
    if (backends.length === 1) return `    ip daddr ${vip} dnat to ${backends[0]}`;
    const map = backends.map((b, i) => `${i} : ${b}`).join(", ");
    return `    ip daddr ${vip} dnat to numgen random mod ${backends.length} map { ${map} }`;
  });
  return [
    `add table ip ${VIP_TABLE}`,
    `delete table ip ${VIP_TABLE}`,
    `table ip ${VIP_TABLE} {`,
    "  chain out {",
    "    type nat hook output priority -100; policy accept;",
    ...rules,
    "  }",
    ...chains,
    "}",
    "",
  ].join("\n");
}
