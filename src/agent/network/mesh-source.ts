/**
 * Keeping the client's address through the routing mesh (pure), the first thing Swarm users miss
 * (moby#25526; shared/reference/user-needs.md §1). The ingress node DNATs but does not SNAT a
 * connection from outside, so the backend sees the real client; the backend's replies must then
 * go back through the node that forwarded it, not out of its default route. Every frame a node
 * routes into ingress carries that node's bridge MAC (derived from its ingress address, mesh.ts),
 * so in each task container on ingress a new connection is marked with the node it came through
 * (the mark is the node's ingress address as a number), replies carry the mark, and one policy
 * route per node sends them to that node's ingress address (dataplane-notes.md §4, "keeping the
 * real client IP"). Node-local clients and clients on ingress itself are still SNATed (mesh.ts):
 * a loopback or on-link source cannot be routed back that way.
 */
import type { NetworkPeers } from "../../api/index.ts";
import { macOf } from "./overlay.ts";

/** The rule priority shoal owns in task containers' netns (main is 32766). */
export const SOURCE_RULE_PREF = 100;

/** Where a node's forwarded connections are answered: its bridge MAC, their mark, its address. */
export interface SourceRoute {
  mac: string;
  /** Also the routing table's ID: an IPv4 address as a number is never a reserved table (0, 253–255). */
  mark: number;
  via: string;
}

const ip = (cidr: string): string => cidr.split("/")[0] ?? "";
const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/** An IPv4 address as an unsigned 32-bit number. */
export function addressNumber(addr: string): number {
  return addr.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** One route per node in the mesh (this one included: it forwards to its own tasks too), sorted. */
export function sourceRoutes(peers: NetworkPeers | undefined): SourceRoute[] {
  return (peers?.mesh?.nodes ?? [])
    .map((n) => ip(n.IngressAddr))
    .filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a))
    .map((via) => ({ mac: macOf(via), mark: addressNumber(via), via }))
    .sort((a, b) => a.mark - b.mark);
}

/**
 * The chains added to a task container's VIP table: mark new connections by the MAC of the node
 * that routed them in, and put the mark on every packet of them (prerouting too, so a strict
 * rp_filter with src_valid_mark validates the client against the mark's route).
 */
export function sourceChains(routes: readonly SourceRoute[]): string[] {
  if (routes.length === 0) return [];
  const map = routes.map((r) => `${r.mac} : ${hex(r.mark)}`).join(", ");
  return [
    "  chain mesh_mark {",
    "    type filter hook prerouting priority mangle; policy accept;",
    `    ct state new ct mark set ether saddr map { ${map} }`,
    "    ct mark != 0 meta mark set ct mark",
    "  }",
    "  chain mesh_route {",
    "    type route hook output priority mangle; policy accept;",
    "    ct mark != 0 meta mark set ct mark",
    "  }",
  ];
}

/** The marks of shoal's policy rules in `ip rule show pref 100` output. */
export function parseSourceRules(listing: string): number[] {
  const out: number[] = [];
  for (const m of listing.matchAll(/^\s*\d+:\s+from all fwmark (0x[0-9a-f]+) lookup (\d+)/gim)) {
    if (Number(m[1]) === Number(m[2])) out.push(Number(m[2]));
  }
  return out;
}

/**
 * The `ip -batch -` script taking a netns's policy routes from the rules it has (`existing` marks)
 * to `after`. Every command succeeds on a consistent netns: a rule is deleted only when present,
 * added only when absent, and its route is put in place first. A route left in a table whose rule
 * is gone is never looked up.
 */
export function routeBatch(existing: readonly number[], after: readonly SourceRoute[]): string {
  const wanted = new Set(after.map((r) => r.mark));
  const has = new Set(existing);
  const lines: string[] = [];
  for (const mark of has) {
    if (!wanted.has(mark)) lines.push(`rule del pref ${SOURCE_RULE_PREF} fwmark ${hex(mark)} lookup ${mark}`);
  }
  for (const r of after) {
    lines.push(`route replace default via ${r.via} table ${r.mark}`);
    if (!has.has(r.mark))
      lines.push(`rule add pref ${SOURCE_RULE_PREF} fwmark ${hex(r.mark)} lookup ${r.mark}`);
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}
