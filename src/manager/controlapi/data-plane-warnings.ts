/**
 * The routing mesh (ingress-mode published ports answering on every node) is not built yet: the
 * control plane allocates the ports, but nothing listens. A service that asks for it still runs,
 * and the CLI prints this warning so nobody is misled. Overlay networks themselves work (bridges,
 * VXLAN between nodes, service DNS and VIPs: agent/network), so they get no warning.
 */
import type { ServiceSpec } from "../../api/index.ts";

export const MESH_WARNING =
  "shoal: the routing mesh is not implemented yet: ingress-mode published ports are allocated but do not answer (use --publish mode=host for a port that works now)";

export function dataPlaneWarnings(spec: ServiceSpec): string[] {
  const ports = spec.EndpointSpec?.Ports ?? [];
  return ports.some((p) => (p.PublishMode ?? "ingress") === "ingress") ? [MESH_WARNING] : [];
}
