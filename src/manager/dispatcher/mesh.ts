/**
 * The routing mesh's part of a node's peer view (pure). While some service publishes a port in
 * ingress mode, every node answers it, whether or not it runs one of its tasks (Swarm's routing
 * mesh), so every node joins ingress: it gets the ingress network, those services' published ports
 * and every node's ingress address (the allocator's node attachment). The backends themselves are
 * the peer view's tasks on ingress (peers.ts), so a task leaves the mesh exactly when it leaves the
 * VIP sets.
 */
import type {
  MeshNode,
  MeshPort,
  MeshService,
  MeshView,
  NetworkedNode,
  Node,
  Service,
  SwarmNetworkObject,
} from "../../api/index.ts";
import { isIngressNetwork } from "../../api/index.ts";

const PROTOCOLS = ["tcp", "udp", "sctp"] as const;

/** The ingress ports a service's allocated endpoint publishes (host-mode ports excluded). */
export function meshPorts(s: Service): MeshPort[] {
  return (s.Endpoint?.Ports ?? []).flatMap((p) => {
    if ((p.PublishMode ?? "ingress") !== "ingress" || !p.PublishedPort || !p.TargetPort) return [];
    const Protocol = PROTOCOLS.find((x) => x === (p.Protocol ?? "tcp"));
    return Protocol ? [{ Protocol, PublishedPort: p.PublishedPort, TargetPort: p.TargetPort }] : [];
  });
}

/** The allocated ingress network, if there is one. */
export function ingressNetwork(networks: Iterable<SwarmNetworkObject>): SwarmNetworkObject | undefined {
  for (const n of networks) {
    if (isIngressNetwork(n) && !n.PendingDelete && n.IPAMOptions?.Configs?.length) return n;
  }
  return undefined;
}

/**
 * The mesh view, or undefined when no service publishes an ingress port (nodes then leave
 * ingress). A node is listed once it has both an underlay address and an ingress address.
 */
export function meshView(
  networks: Iterable<SwarmNetworkObject>,
  services: Iterable<Service>,
  nodes: Iterable<Node>,
): MeshView | undefined {
  const ingress = ingressNetwork(networks);
  if (!ingress) return undefined;
  const published: MeshService[] = [];
  for (const s of services) {
    const Ports = meshPorts(s);
    if (Ports.length > 0) published.push({ ID: s.ID ?? "", Ports });
  }
  if (published.length === 0) return undefined;
  const meshNodes: MeshNode[] = [];
  for (const n of nodes as Iterable<NetworkedNode>) {
    const IngressAddr = n.Attachments?.find((a) => a.Network.ID === ingress.ID)?.Addresses?.[0];
    const Addr = n.Status?.Addr;
    if (IngressAddr && Addr) meshNodes.push({ ID: n.ID ?? "", Addr, IngressAddr });
  }
  // only what the data plane reads: the version and the allocator's guard change far more often
  const { ID, Spec, IPAMOptions, DriverState } = ingress;
  return {
    Network: { ID, Spec, ...(IPAMOptions ? { IPAMOptions } : {}), ...(DriverState ? { DriverState } : {}) },
    services: published.sort((a, b) => a.ID.localeCompare(b.ID)),
    nodes: meshNodes.sort((a, b) => a.ID.localeCompare(b.ID)),
  };
}
