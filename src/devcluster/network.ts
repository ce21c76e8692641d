/**
 * The harness network: a bridge in the root namespace, one netns per node wired to it with a veth
 * pair, FORWARD rules so the bridge forwards (and nothing leaves it), and partitions made of
 * nftables drop rules inside a node's netns.
 */
import { mkdirSync, rmdirSync } from "node:fs";
import { type Layout, layout, MAX_INSTANCES, type NodeLayout } from "./layout.ts";
import { must, procStartTime, runSync } from "./sys.ts";
import { instanceLinks, instanceNetns, type Manifest, writeManifest } from "./teardown.ts";

interface Route {
  dst?: string;
}

const ipToInt = (ip: string): number => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);

/** Whether two IPv4 prefixes ("a.b.c.d/n" or a bare address) overlap. */
export function prefixesOverlap(a: string, b: string): boolean {
  const parse = (p: string): [number, number] => {
    const [addr = "", len = "32"] = p.split("/");
    const bits = Number(len);
    const size = 2 ** (32 - bits);
    const base = Math.floor(ipToInt(addr) / size) * size;
    return [base, base + size - 1];
  };
  const [a0, a1] = parse(a);
  const [b0, b1] = parse(b);
  return a0 <= b1 && b0 <= a1;
}

/** IPv4 prefixes routed or assigned in the root namespace (all tables), except the default route. */
function usedPrefixes(): string[] {
  const out: string[] = [];
  const routes = runSync(["ip", "-j", "-4", "route", "show", "table", "all"]);
  if (routes.code === 0) {
    for (const r of JSON.parse(routes.stdout || "[]") as Route[]) {
      if (r.dst && r.dst !== "default" && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst)) out.push(r.dst);
    }
  }
  return out;
}

/**
 * Claims a free instance index: its state dir is created with mkdir (atomic: two harnesses never get
 * the same one), its subnet must not overlap any existing route, and nothing of an older run with
 * that index may remain (cleanup.ts removes those). Writes the manifest at once.
 */
export function claimInstance(name: string, nodes: number, persistent = false): Layout {
  const used = usedPrefixes();
  const start = Math.floor(Math.random() * MAX_INSTANCES);
  for (let k = 0; k < MAX_INSTANCES; k++) {
    const idx = (start + k) % MAX_INSTANCES;
    const l = layout(idx);
    if (used.some((p) => prefixesOverlap(p, l.subnet))) continue;
    if (instanceNetns(idx).length > 0 || instanceLinks(idx).length > 0) continue;
    try {
      mkdirSync(l.dir, { mode: 0o755 });
    } catch {
      continue;
    }
    const manifest: Manifest = {
      name,
      idx,
      nodes,
      ownerPid: process.pid,
      ownerStart: procStartTime(process.pid) ?? "",
      created: new Date().toISOString(),
      ...(persistent ? { persistent } : {}),
    };
    try {
      writeManifest(l, manifest);
    } catch (err) {
      rmdirSync(l.dir);
      throw err;
    }
    return l;
  }
  throw new Error(
    "no free harness instance (172.16.0-255.0/24 all taken or routed); run test/cluster/cleanup.ts (or shoal down)",
  );
}

function forwardChain(): string {
  return runSync(["iptables", "-w", "-n", "-L", "DOCKER-USER"]).code === 0 ? "DOCKER-USER" : "FORWARD";
}

export async function setupBridge(l: Layout): Promise<void> {
  await must(["ip", "link", "add", l.bridge, "type", "bridge"]);
  await must(["ip", "addr", "add", `${l.gateway}/24`, "dev", l.bridge]);
  await must(["ip", "link", "set", l.bridge, "up"]);
  const chain = forwardChain();
  for (const rule of l.forwardRules) await must(["iptables", "-w", "-I", chain, ...rule]);
}

export async function setupNodeNetwork(l: Layout, n: NodeLayout): Promise<void> {
  await must(["ip", "netns", "add", n.netns]);
  await must(["ip", "link", "add", n.veth, "type", "veth", "peer", "name", "eth0", "netns", n.netns]);
  await must(["ip", "link", "set", n.veth, "master", l.bridge, "up"]);
  await must(["ip", "-n", n.netns, "addr", "add", `${n.addr}/24`, "dev", "eth0"]);
  await must(["ip", "-n", n.netns, "link", "set", "lo", "up"]);
  await must(["ip", "-n", n.netns, "link", "set", "eth0", "up"]);
  // a default route like a real machine's (address auto-detection needs one); the bridge drops
  // anything that would leave the harness network
  await must(["ip", "-n", n.netns, "route", "add", "default", "via", l.gateway]);
}

export const PARTITION_TABLE = "shoal_harness_partition";

/** Which traffic of a node a partition drops: both directions (default), only what arrives, only what leaves. */
export type PartitionDirection = "both" | "in" | "out";

/**
 * nftables rules cutting node `n` off: everything through its eth0 is dropped (in, out, forwarded
 * for its containers), or only traffic to/from `peers` if given, and only one way with `direction`.
 * Loopback and the node's own container bridges keep working. Replaces any earlier partition.
 */
export function partitionRules(peers?: readonly string[], direction: PartitionDirection = "both"): string {
  const some = peers && peers.length > 0;
  const fromPeers = some ? ` ip saddr { ${peers.join(", ")} }` : "";
  const toPeers = some ? ` ip daddr { ${peers.join(", ")} }` : "";
  const dropIn = direction !== "out" ? `iifname "eth0"${fromPeers} drop;` : "";
  const dropOut = direction !== "in" ? `oifname "eth0"${toPeers} drop;` : "";
  return [
    `table inet ${PARTITION_TABLE} {`,
    `  chain c_in { type filter hook input priority -300; policy accept; ${dropIn} }`,
    `  chain c_out { type filter hook output priority -300; policy accept; ${dropOut} }`,
    `  chain c_fwd { type filter hook forward priority -300; policy accept; ${dropIn} ${dropOut} }`,
    "}",
  ].join("\n");
}
