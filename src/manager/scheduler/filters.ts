/**
 * The node filters, in SwarmKit's order (`pipeline.go defaultFilters`): ready, resources, plugins,
 * constraints, platform, host ports, max replicas. A filter that does not apply to a task is
 * skipped; each failure explains itself in Swarm's words ("insufficient resources on 2 nodes").
 */
import type { Platform, SwarmTask } from "../../api/index.ts";
import {
  type Constraint,
  hostPortsOf,
  nodeMatches,
  type Reservations,
  reservationsOf,
  tryParseConstraints,
} from "../common/index.ts";
import { activeOfService, type NodeInfo } from "./nodeinfo.ts";

/** What a group of identical tasks asks of a node, compiled once per group. */
export interface Requirements {
  serviceId: string;
  reservations: Reservations;
  volumePlugins: string[];
  networkPlugins: string[];
  logDriver?: string;
  /** Undefined when there are no constraints or they do not parse (Swarm then skips the filter). */
  constraints?: Constraint[];
  platforms: Platform[];
  hostPorts: string[];
  maxReplicas: number;
}

export function requirementsOf(t: SwarmTask): Requirements {
  const spec = t.Spec;
  const volumePlugins: string[] = [];
  for (const m of spec?.ContainerSpec?.Mounts ?? []) {
    const driver = m.VolumeOptions?.DriverConfig?.Name;
    if (m.Type === "volume" && driver && driver !== "local") volumePlugins.push(driver);
  }
  const networkPlugins: string[] = [];
  for (const a of t.NetworksAttachments ?? []) {
    const driver = (a.Network as { DriverState?: { Name?: string } } | undefined)?.DriverState?.Name;
    if (driver) networkPlugins.push(driver);
  }
  const exprs = spec?.Placement?.Constraints ?? [];
  const logDriver = spec?.LogDriver?.Name;
  return {
    serviceId: t.ServiceID ?? "",
    reservations: reservationsOf(spec),
    volumePlugins,
    networkPlugins,
    ...(logDriver && logDriver !== "none" ? { logDriver } : {}),
    ...(exprs.length > 0 ? { constraints: tryParseConstraints(exprs) } : {}),
    platforms: spec?.Placement?.Platforms ?? [],
    hostPorts: hostPortsOf(t),
    maxReplicas: spec?.Placement?.MaxReplicas ?? 0,
  };
}

export interface Filter {
  name: string;
  enabled(req: Requirements): boolean;
  check(req: Requirements, info: NodeInfo): boolean;
  explain(nodes: number): string;
}

const count = (nodes: number, one: string, many: (n: number) => string): string =>
  nodes === 1 ? one : many(nodes);

/** Does the node have the plugin? Returns [typeFound, exists]; `name:latest` counts as `name`. */
function pluginOnNode(info: NodeInfo, type: string, name: string): [boolean, boolean] {
  let typeFound = false;
  for (const p of info.node.Description?.Engine?.Plugins ?? []) {
    if (p.Type !== type) continue;
    typeFound = true;
    if (p.Name === name || p.Name === `${name}:latest`) return [true, true];
  }
  return [typeFound, false];
}

const normaliseArch = (arch: string | undefined): string =>
  arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : (arch ?? "");

function platformMatches(want: Platform, have: Platform): boolean {
  const arch = normaliseArch(want.Architecture);
  return (arch === "" || arch === normaliseArch(have.Architecture)) && (!want.OS || want.OS === have.OS);
}

export const FILTERS: readonly Filter[] = [
  {
    name: "ready",
    enabled: () => true,
    check: (_r, n) =>
      n.node.Status?.State === "ready" && (n.node.Spec?.Availability ?? "active") === "active",
    explain: (n) =>
      count(n, "1 node not available for new tasks", (k) => `${k} nodes not available for new tasks`),
  },
  {
    name: "resources",
    enabled: (r) =>
      r.reservations.nanoCPUs > 0 || r.reservations.memoryBytes > 0 || r.reservations.generic.size > 0,
    check: (r, n) => {
      if (r.reservations.nanoCPUs > n.available.nanoCPUs) return false;
      if (r.reservations.memoryBytes > n.available.memoryBytes) return false;
      for (const [kind, want] of r.reservations.generic)
        if ((n.available.generic.get(kind) ?? 0) < want) return false;
      return true;
    },
    explain: (n) =>
      count(n, "insufficient resources on 1 node", (k) => `insufficient resources on ${k} nodes`),
  },
  {
    name: "plugins",
    enabled: (r) => r.volumePlugins.length > 0 || r.networkPlugins.length > 0 || r.logDriver !== undefined,
    check: (r, n) => {
      // A node that does not describe its engine is not checked (SwarmKit: "not running Engine").
      if (!n.node.Description?.Engine) return true;
      if (r.volumePlugins.some((v) => !pluginOnNode(n, "Volume", v)[1])) return false;
      if (r.networkPlugins.some((v) => !pluginOnNode(n, "Network", v)[1])) return false;
      if (r.logDriver) {
        // A daemon that reports no log plugins at all is probably old: do not filter on it.
        const [typeFound, exists] = pluginOnNode(n, "Log", r.logDriver);
        if (typeFound && !exists) return false;
      }
      return true;
    },
    explain: (n) => count(n, "missing plugin on 1 node", (k) => `missing plugin on ${k} nodes`),
  },
  {
    name: "constraints",
    enabled: (r) => r.constraints !== undefined,
    check: (r, n) => nodeMatches(r.constraints ?? [], n.node),
    explain: (n) =>
      count(
        n,
        "scheduling constraints not satisfied on 1 node",
        (k) => `scheduling constraints not satisfied on ${k} nodes`,
      ),
  },
  {
    name: "platform",
    enabled: (r) => r.platforms.length > 0,
    check: (r, n) => {
      const have = n.node.Description?.Platform;
      return have !== undefined && r.platforms.some((p) => platformMatches(p, have));
    },
    explain: (n) => count(n, "unsupported platform on 1 node", (k) => `unsupported platform on ${k} nodes`),
  },
  {
    name: "host-ports",
    enabled: (r) => r.hostPorts.length > 0,
    check: (r, n) => r.hostPorts.every((p) => !n.usedHostPorts.has(p)),
    explain: (n) =>
      count(
        n,
        "host-mode port already in use on 1 node",
        (k) => `host-mode port already in use on ${k} nodes`,
      ),
  },
  {
    name: "max-replicas",
    enabled: (r) => r.maxReplicas > 0,
    check: (r, n) => activeOfService(n, r.serviceId) < r.maxReplicas,
    explain: () => "max replicas per node limit exceed",
  },
];
