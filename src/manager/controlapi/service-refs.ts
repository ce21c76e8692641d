/**
 * Checks of a service spec against other objects in the store: network targets (names become
 * IDs, the ingress network may not be named), published ports already taken by another service,
 * and the secrets and configs the spec references. Messages are SwarmKit's and moby's.
 */
import type { Service, ServiceSpec } from "../../api/index.ts";
import { isIngressNetwork } from "../../api/index.ts";
import type { ReadTx } from "../../store/types.ts";
import { resolveObject } from "./resolve.ts";
import { invalid } from "./service-validate.ts";

type Port = NonNullable<NonNullable<ServiceSpec["EndpointSpec"]>["Ports"]>[number];

/**
 * moby's populateNetworkID: every `TaskTemplate.Networks[].Target` (ID, name or ID prefix) becomes
 * the network's ID, in place; an unknown one gives "network X not found".
 */
export function resolveNetworkTargets(tx: ReadTx, spec: ServiceSpec): void {
  const attachments = spec.TaskTemplate?.Networks ?? [];
  if (attachments.length === 0) return;
  const networks = tx.list("networks").filter((n) => !n.PendingDelete); // removed, awaiting its tasks
  for (const a of attachments) {
    const net = resolveObject("network", a.Target ?? "", networks, (n) => [n.Spec.Name]);
    a.Target = net.ID;
  }
}

/** SwarmKit's validateNetworks: the ingress network is attached implicitly, never by name. */
export function refuseIngressAttachment(tx: ReadTx, spec: ServiceSpec): void {
  for (const a of spec.TaskTemplate?.Networks ?? []) {
    const net = tx.get("networks", a.Target ?? "");
    if (net && isIngressNetwork(net)) {
      throw invalid(`Service cannot be explicitly attached to the ingress network "${net.Spec.Name}"`);
    }
  }
}

const portKey = (p: Port): string => `${p.Protocol ?? "tcp"}/${p.PublishedPort}`;

/**
 * SwarmKit's checkPortConflicts: an ingress port may not be published by any other service in any
 * mode, and a host port may not clash with another service's ingress port (host ports may be
 * shared; the scheduler keeps them apart). `selfId` is skipped (the service being updated).
 */
export function checkPortConflicts(tx: ReadTx, spec: ServiceSpec, selfId: string): void {
  const ingress = new Set<string>();
  const host = new Set<string>();
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (!p.PublishedPort) continue;
    (p.PublishMode === "host" ? host : ingress).add(portKey(p));
  }
  if (ingress.size === 0 && host.size === 0) return;
  for (const other of tx.list("services")) {
    if (other.ID === selfId) continue;
    const ports = [...(other.Spec?.EndpointSpec?.Ports ?? []), ...(other.Endpoint?.Ports ?? [])];
    for (const p of ports) conflictWith(p, other, ingress, host);
  }
}

function conflictWith(p: Port, other: Service, ingress: Set<string>, host: Set<string>): void {
  if (!p.PublishedPort) return;
  const key = portKey(p);
  const who = `service '${other.Spec?.Name ?? ""}' (${other.ID})`;
  if (p.PublishMode === "host") {
    if (ingress.has(key))
      throw invalid(`port '${p.PublishedPort}' is already in use by ${who} as a host-published port`);
  } else if (ingress.has(key) || host.has(key)) {
    throw invalid(`port '${p.PublishedPort}' is already in use by ${who} as an ingress port`);
  }
}

/** SwarmKit's checkSecretExistence and checkConfigExistence: IDs exist and names match. */
export function checkSecretsAndConfigs(tx: ReadTx, spec: ServiceSpec): void {
  const c = spec.TaskTemplate?.ContainerSpec;
  const missingSecrets = (c?.Secrets ?? [])
    .filter((ref) => tx.get("secrets", ref.SecretID ?? "")?.Spec?.Name !== ref.SecretName)
    .map((ref) => ref.SecretName ?? "");
  if (missingSecrets.length > 0) {
    throw invalid(
      `${missingSecrets.length === 1 ? "secret" : "secrets"} not found: ${missingSecrets.join(", ")}`,
    );
  }
  const missingConfigs = (c?.Configs ?? [])
    .filter((ref) => tx.get("configs", ref.ConfigID ?? "")?.Spec?.Name !== ref.ConfigName)
    .map((ref) => ref.ConfigName ?? "");
  if (missingConfigs.length > 0) {
    throw invalid(
      `${missingConfigs.length === 1 ? "config" : "configs"} not found: ${missingConfigs.join(", ")}`,
    );
  }
}
