/**
 * Overlay networking's data plane is single-node so far: tasks on one node reach each other over a
 * local bridge with their cluster addresses, service names resolve and VIPs balance (agent/network),
 * but there is no VXLAN between nodes and no routing mesh. A service that asks for those still
 * runs, and the CLI prints these warnings so nobody is misled.
 */
import type { ServiceSpec } from "../../api/index.ts";

export const MESH_WARNING =
  "shoal: the routing mesh is not implemented yet: ingress-mode published ports are allocated but do not answer (use --publish mode=host for a port that works now)";
export const OVERLAY_WARNING =
  "shoal: overlay networks connect tasks on the same node only: cross-node overlay traffic (VXLAN) is not implemented yet";

export function dataPlaneWarnings(spec: ServiceSpec): string[] {
  const out: string[] = [];
  const ports = spec.EndpointSpec?.Ports ?? [];
  if (ports.some((p) => (p.PublishMode ?? "ingress") === "ingress")) out.push(MESH_WARNING);
  const networks = spec.TaskTemplate?.Networks ?? spec.Networks ?? [];
  if (networks.length > 0) out.push(OVERLAY_WARNING);
  return out;
}
