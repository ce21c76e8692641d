/**
 * Test support for the allocator: builders for networks, services and tasks as the control API
 * stores them, and the invariant every test checks: nothing is handed out twice. Not used by
 * production code.
 */
import type {
  EndpointPortConfig,
  NetworkedNode,
  NetworkedTask,
  Service,
  SwarmNetworkObject,
  SwarmNetworkSpec,
} from "../../api/index.ts";
import { VXLAN_ID_LIST_OPTION } from "../../api/index.ts";
import { parsePrefix, prefixesOverlap } from "../common/cidr.ts";
import type { AllocSnapshot } from "./rebuild.ts";
import { taskHoldsAddresses } from "./rebuild.ts";

export function makeNetwork(
  id: string,
  spec: Partial<SwarmNetworkSpec> = {},
  createdAt = "2026-01-01T00:00:00Z",
): SwarmNetworkObject {
  return {
    ID: id,
    CreatedAt: createdAt,
    Spec: { Name: spec.Name ?? id, DriverConfiguration: { Name: "overlay" }, Scope: "swarm", ...spec },
  };
}

export const makeIngress = (id = "ingress-id"): SwarmNetworkObject =>
  makeNetwork(id, { Name: "ingress", Ingress: true }, "2025-12-31T00:00:00Z");

export interface SvcOptions {
  networks?: string[];
  ports?: EndpointPortConfig[];
  mode?: "vip" | "dnsrr";
}

export function makeNetService(id: string, o: SvcOptions = {}): Service {
  return {
    ID: id,
    Spec: {
      Name: id,
      TaskTemplate: {
        ContainerSpec: { Image: "busybox" },
        ...(o.networks ? { Networks: o.networks.map((Target) => ({ Target })) } : {}),
      },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: { Mode: o.mode ?? "vip", ...(o.ports ? { Ports: o.ports } : {}) },
    },
  };
}

export function makeNewTask(id: string, service: Service, node?: string): NetworkedTask {
  return {
    ID: id,
    ServiceID: service.ID,
    Spec: structuredClone(service.Spec?.TaskTemplate ?? {}),
    Status: { State: "new", Timestamp: "2026-01-01T00:00:00Z" },
    DesiredState: "running",
    ...(node ? { NodeID: node } : {}),
  };
}

export const ingressPort = (
  target: number,
  published = 0,
  protocol: "tcp" | "udp" = "tcp",
): EndpointPortConfig => ({
  Protocol: protocol,
  TargetPort: target,
  PublishedPort: published,
  PublishMode: "ingress",
});

/** Every resource held twice (or outside its network) in a snapshot; empty when all is well. */
export function duplicates(snap: AllocSnapshot): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  const hold = (key: string, owner: string) => {
    const other = seen.get(key);
    if (other !== undefined && other !== owner) out.push(`${key} held by ${other} and ${owner}`);
    seen.set(key, owner);
  };
  const live = snap.networks.filter((n) => n.IPAMOptions?.Configs?.length);
  for (const n of live) {
    for (const vni of (n.DriverState?.Options?.[VXLAN_ID_LIST_OPTION] ?? "").split(",").filter(Boolean))
      hold(`vni ${vni}`, n.ID);
    for (const c of n.IPAMOptions?.Configs ?? []) hold(`${n.ID} ${c.Gateway}`, `gw ${n.ID}`);
  }
  for (const [i, a] of live.entries()) {
    for (const b of live.slice(i + 1)) {
      const pa = parsePrefix(a.IPAMOptions?.Configs?.[0]?.Subnet ?? "");
      const pb = parsePrefix(b.IPAMOptions?.Configs?.[0]?.Subnet ?? "");
      if (pa && pb && prefixesOverlap(pa, pb)) out.push(`subnets of ${a.ID} and ${b.ID} overlap`);
    }
  }
  for (const s of snap.services) {
    for (const v of s.Endpoint?.VirtualIPs ?? [])
      hold(`${v.NetworkID} ${v.Addr?.split("/")[0]}`, `svc ${s.ID}`);
    for (const p of s.Endpoint?.Ports ?? []) {
      if (p.PublishMode !== "host" && p.PublishedPort)
        hold(`port ${p.Protocol}/${p.PublishedPort}`, `svc ${s.ID}`);
    }
  }
  for (const t of snap.tasks.filter(taskHoldsAddresses)) {
    for (const a of t.NetworksAttachments ?? []) {
      for (const addr of a.Addresses ?? []) hold(`${a.Network.ID} ${addr.split("/")[0]}`, `task ${t.ID}`);
    }
  }
  for (const node of snap.nodes as NetworkedNode[]) {
    for (const a of node.Attachments ?? []) {
      for (const addr of a.Addresses ?? []) hold(`${a.Network.ID} ${addr.split("/")[0]}`, `node ${node.ID}`);
    }
  }
  return out;
}
