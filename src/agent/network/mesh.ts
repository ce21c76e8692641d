/**
 * The routing mesh on one node, planned from the peer view (pure), as checked by experiment in
 * shared/reference/dataplane-notes.md §4: the node joins the ingress network (its bridge, with the
 * node's own ingress address and a MAC derived from it, so that other nodes reach that address over
 * VXLAN like any container's), and one nft table in the node's netns DNATs every local address's
 * published port to the service's running tasks on ingress, round robin (IPVS's default in Swarm),
 * from outside (prerouting) and from the node itself (output). Connections from the node itself
 * and from ingress are SNATed to the node's ingress address so that replies come back through
 * it; those from outside keep their client address when the backends route replies back
 * (mesh-source.ts), else they are SNATed too, as in Swarm. Docker's FORWARD
 * chain would drop the forwarded flows (its isolation chains, a DROP policy): two DOCKER-USER
 * rules accept DNATed traffic in and out of the ingress bridge, and the same two sit in FORWARD
 * right after the jump to DOCKER-USER. dockerd moves that jump to the top on every network it
 * creates by deleting and re-inserting it (two iptables runs, tens of ms apart on a busy host);
 * in between, a new connection's SYN met the DROP policy and waited out a 1 s retransmission
 * (bench/results/mesh-notes.md, 2026-11-26T1925Z). The FORWARD copies are never moved.
 */
import { isServing, type MeshPort, type NetworkPeers } from "../../api/index.ts";
import { macOf, type RemoteEndpoint } from "./overlay.ts";
import { type LocalNetwork, localNetworkOf } from "./plan.ts";

/** The table's prefix; the suffix is the daemon's pid, so a table left by a dead daemon is found. */
export const MESH_TABLE_PREFIX = "shoal_mesh_";
/** The comment on shoal's DOCKER-USER rules, with the owning daemon's pid appended. */
export const MESH_RULE_COMMENT = "shoal-mesh-";

export const meshTable = (pid: number): string => `${MESH_TABLE_PREFIX}${pid}`;

const ip = (cidr: string): string => cidr.split("/")[0] ?? "";

/** One published port and the task addresses behind it. */
export interface MeshRule {
  protocol: MeshPort["Protocol"];
  port: number;
  /** `ip:port` of every running task, sorted. */
  backends: string[];
}

export interface MeshPlan {
  /** The ingress network's local bridge. */
  network: LocalNetwork;
  /**
   * Connections from outside keep their client address (mesh-source.ts): only node-local clients
   * and clients on ingress are SNATed. Otherwise everything is, as in Swarm.
   */
  keepSource: boolean;
  /** This node's ingress address (no prefix) and the bridge MAC derived from it. */
  address: string;
  mac: string;
  rules: MeshRule[];
}

/**
 * The node's part in the mesh, or undefined when it has none: no published service, or the
 * allocator has not given the node its ingress address yet.
 */
export function meshPlan(
  peers: NetworkPeers | undefined,
  nodeId: string,
  keepSource = false,
): MeshPlan | undefined {
  const mesh = peers?.mesh;
  const network = mesh && localNetworkOf(mesh.Network);
  const self = mesh?.nodes.find((n) => n.ID === nodeId);
  if (!mesh || !network || !self) return undefined;
  const address = ip(self.IngressAddr);
  const rules: MeshRule[] = [];
  for (const s of mesh.services) {
    const addrs = (peers?.tasks ?? [])
      .filter((t) => t.ServiceID === s.ID && isServing(t))
      .flatMap((t) => t.Addresses.filter((a) => a.NetworkID === network.id).map((a) => ip(a.Addr)))
      .filter((a) => a && !a.includes(":"));
    for (const p of s.Ports) {
      const backends = addrs.map((a) => `${a}:${p.TargetPort}`).sort();
      rules.push({ protocol: p.Protocol, port: p.PublishedPort, backends });
    }
  }
  rules.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  return { network, keepSource, address, mac: macOf(address), rules };
}

/** Other nodes' ingress addresses, as VXLAN endpoints of the ingress network (replies go there). */
export function meshRemoteNodes(peers: NetworkPeers | undefined, nodeId: string): RemoteEndpoint[] {
  const self = peers?.mesh?.nodes.find((n) => n.ID === nodeId);
  return (peers?.mesh?.nodes ?? [])
    .filter((n) => n.ID !== nodeId && n.Addr !== self?.Addr)
    .map((n) => ({ ip: ip(n.IngressAddr), mac: macOf(ip(n.IngressAddr)), node: n.Addr }))
    .filter((e) => e.ip && !e.ip.includes(":"));
}

function dnat(r: MeshRule): string {
  const match = `fib daddr type local ${r.protocol} dport ${r.port}`;
  if (r.backends.length === 1) return `    ${match} dnat ip to ${r.backends[0]}`;
  const map = r.backends.map((b, i) => `${i} : ${b.replace(":", " . ")}`).join(", ");
  return `    ${match} dnat ip to numgen inc mod ${r.backends.length} map { ${map} }`;
}

/**
 * The script that replaces the node's mesh table atomically. A port with no running task refuses
 * at once (as the VIP rules do) instead of leaving clients to time out. One rule per line (nft
 * 1.0.6 rejects a rule followed by `}` on the same line).
 */
export function meshRuleset(table: string, plan: MeshPlan): string {
  const served = plan.rules.filter((r) => r.backends.length > 0).map(dnat);
  const refused = plan.rules
    .filter((r) => r.backends.length === 0)
    .map(
      (r) =>
        `    fib daddr type local ${r.protocol} dport ${r.port} reject${r.protocol === "tcp" ? " with tcp reset" : ""}`,
    );
  const n = plan.network;
  const snat = `oifname "${n.bridge}" ct status dnat ip daddr ${n.subnet}`;
  const snats = plan.keepSource
    ? [
        `    ${snat} fib saddr type local snat ip to ${plan.address}`,
        `    ${snat} ip saddr ${n.subnet} snat ip to ${plan.address}`,
      ]
    : [`    ${snat} snat ip to ${plan.address}`];
  return [
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    ...served,
    "  }",
    "  chain output {",
    "    type nat hook output priority -100; policy accept;",
    ...served,
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    ...snats,
    "  }",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    ...refused,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Removing the table (idempotent: adding an existing table is a no-op). */
export const meshTeardownScript = (table: string): string =>
  `add table ip ${table}\ndelete table ip ${table}\n`;

/**
 * The node's ingress address on the bridge (a /32: the bridge's own /24 route stays the gateway's)
 * with the MAC every other node's neighbour entry names, and `route_localnet` so that a published
 * port answers on 127.0.0.1 (a loopback source leaving for the bridge, then SNATed).
 */
export function bridgeCommands(plan: MeshPlan): string[][] {
  const br = plan.network.bridge;
  return [
    ["ip", "link", "set", "dev", br, "address", plan.mac],
    ["ip", "addr", "replace", `${plan.address}/32`, "dev", br],
    ["sysctl", "-qw", `net.ipv4.conf.${br}.route_localnet=1`],
  ];
}

/** The filter chains holding the rules of dockerUserRules, in the order they are placed. */
export const MESH_FILTER_CHAINS = ["DOCKER-USER", "FORWARD"] as const;

/**
 * Where a rule goes in FORWARD (1-based, for `iptables -I FORWARD <n>`), from `iptables -S
 * FORWARD`: right after the jump to DOCKER-USER, so that users' DOCKER-USER filters still come
 * first; at the top when there is no such jump (dockerd without iptables: nothing to get past).
 */
export function forwardInsertAt(listing: string): number {
  const rules = listing.split("\n").filter((l) => l.startsWith("-A FORWARD "));
  const jump = rules.findIndex((l) => l.trim() === "-A FORWARD -j DOCKER-USER");
  return jump + 2;
}

/** The mesh's filter rules (iptables arguments after the chain) for the ingress bridge. */
export function dockerUserRules(bridge: string, pid: number): string[][] {
  const tail = [
    "-m",
    "conntrack",
    "--ctstate",
    "DNAT",
    "-m",
    "comment",
    "--comment",
    `${MESH_RULE_COMMENT}${pid}`,
  ];
  return [
    ["-o", bridge, ...tail, "-j", "ACCEPT"],
    ["-i", bridge, ...tail, "-j", "ACCEPT"],
  ];
}

/** Mesh tables in `nft list tables` output whose owner is not `alive`. */
export function staleTables(listing: string, alive: (pid: number) => boolean): string[] {
  const out: string[] = [];
  for (const m of listing.matchAll(new RegExp(`^table ip (${MESH_TABLE_PREFIX}(\\d+))$`, "gm"))) {
    if (!alive(Number(m[2]))) out.push(m[1] ?? "");
  }
  return out;
}

/** shoal's rules in `iptables -S <chain>` output whose owner is not `alive`, as `-D` arguments. */
export function staleRules(
  listing: string,
  alive: (pid: number) => boolean,
  chain: string = "DOCKER-USER",
): string[][] {
  const out: string[][] = [];
  const head = `-A ${chain} `;
  for (const line of listing.split("\n")) {
    const m = line.match(new RegExp(`--comment "?${MESH_RULE_COMMENT}(\\d+)"?`));
    if (!m || alive(Number(m[1])) || !line.startsWith(head)) continue;
    out.push(line.slice(head.length).replace(/"/g, "").split(/\s+/));
  }
  return out;
}
