/**
 * Overlay networking's data plane (VXLAN, service VIPs, the routing mesh) is not built yet: the
 * control plane allocates subnets, addresses, VIPs and published ports, but no packet flows. A
 * service that asks for them still runs, and the CLI prints these warnings so nobody is misled.
 */
import type { ServiceSpec } from "../../api/index.ts";

export const MESH_WARNING =
  "shoal: the routing mesh is not implemented yet: ingress-mode published ports are allocated but do not answer (use --publish mode=host for a port that works now)";
export const OVERLAY_WARNING =
  "shoal: the overlay network data plane is not implemented yet: tasks get their overlay addresses allocated but no overlay connectivity, service VIP or DNS";

export function dataPlaneWarnings(spec: ServiceSpec): string[] {
  const out: string[] = [];
  const ports = spec.EndpointSpec?.Ports ?? [];
  if (ports.some((p) => (p.PublishMode ?? "ingress") === "ingress")) out.push(MESH_WARNING);
  const networks = spec.TaskTemplate?.Networks ?? spec.Networks ?? [];
  if (networks.length > 0) out.push(OVERLAY_WARNING);
  return out;
}
