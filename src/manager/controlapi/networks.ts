/**
 * Swarm-scope networks: create, inspect, list and remove, as moby's `daemon/cluster/networks.go`
 * over SwarmKit's `controlapi/network.go`. The allocator fills in subnets, gateways and VNIs after
 * create; a removal while tasks still terminate marks the network PendingDelete and the allocator
 * deletes it once they are gone.
 */
import type { Network, NetworkedTask, SwarmNetworkObject, SwarmNetworkSpec, Task } from "../../api/index.ts";
import { isIngressNetwork, TaskStates } from "../../api/index.ts";
import type { Ids } from "../../base/index.ts";
import { alreadyExists, failedPrecondition, invalidArgument, timestamp } from "../../base/index.ts";
import type { ReadTx, SwarmNetwork } from "../../store/types.ts";
import { formatPrefix, type Prefix, parsePrefix, prefixesOverlap } from "../common/cidr.ts";
import type { CoreDeps } from "./deps.ts";
import {
  type Filters,
  filterValues,
  labelFilterMap,
  matchesExact,
  matchesLabels,
  validateFilterKeys,
} from "./filters.ts";
import {
  type NetworkCreateRequest,
  networkSpecFromRequest,
  PREDEFINED_LABEL,
  wantsEncryption,
} from "./network-spec.ts";
import { resolveObject } from "./resolve.ts";
import { rpcText } from "./swarm.ts";

/** Whether this machine's kernel can do IPsec ESP (encrypted overlays); injected, probed once. */
export type EspProbe = () => Promise<boolean>;

export interface NetworkDeps extends CoreDeps {
  espSupported?: EspProbe;
}

export const ESP_MISSING =
  "encrypted overlay networks need IPsec ESP in the kernel, and this machine's kernel does not provide it " +
  "(no esp4 xfrm support); create the network without --opt encrypted";

const live = (n: SwarmNetwork): boolean => !n.PendingDelete;

/** The stored network `input` names (full ID, exact name, unique ID prefix); pending deletes skipped. */
export function resolveNetwork(tx: ReadTx, input: string): SwarmNetwork {
  return resolveObject("network", input, tx.list("networks").filter(live), (n) => [n.Spec.Name]);
}

/** The ingress network SwarmKit creates with a new cluster; the allocator gives it 10.0.0.0/24. */
export function newIngressNetwork(ids: Ids, now: string): SwarmNetwork {
  return {
    ID: ids.newId(),
    CreatedAt: now,
    UpdatedAt: now,
    Spec: {
      Name: "ingress",
      Labels: {},
      DriverConfiguration: { Name: "overlay" },
      IPAMOptions: { Driver: { Name: "default" }, Configs: [] },
      Ingress: true,
      Scope: "swarm",
    },
  };
}

export async function createNetwork(deps: NetworkDeps, req: NetworkCreateRequest): Promise<{ ID: string }> {
  const spec = networkSpecFromRequest(req);
  if (wantsEncryption(spec) && !(await (deps.espSupported?.() ?? Promise.resolve(false)))) {
    throw failedPrecondition(ESP_MISSING);
  }
  const now = timestamp(deps.clock);
  const network: SwarmNetwork = { ID: deps.ids.newId(), CreatedAt: now, UpdatedAt: now, Spec: spec };
  await deps.store.update((tx) => {
    const all = tx.list("networks");
    if (all.some((n) => live(n) && n.Spec.Name === spec.Name)) {
      throw alreadyExists(`network with name ${spec.Name} already exists`);
    }
    const ingress = spec.Ingress ? all.find(isIngressNetwork) : undefined;
    if (ingress)
      throw alreadyExists(rpcText("AlreadyExists", `ingress network (${ingress.ID}) is already present`));
    checkOverlaps(spec, all);
    tx.create("networks", network);
  });
  return { ID: network.ID };
}

/** Every subnet a network holds or asked for. */
export function subnetsOf(n: SwarmNetworkObject): Prefix[] {
  const pools = [...(n.IPAMOptions?.Configs ?? []), ...(n.Spec.IPAMOptions?.Configs ?? [])];
  return pools.flatMap((p) => {
    const prefix = parsePrefix(p.Subnet ?? "");
    return prefix ? [prefix] : [];
  });
}

/** libnetwork refuses a pool that overlaps one already in the global address space. */
function checkOverlaps(spec: SwarmNetworkSpec, others: readonly SwarmNetwork[]): void {
  for (const pool of spec.IPAMOptions?.Configs ?? []) {
    const mine = parsePrefix(pool.Subnet ?? "");
    if (!mine) continue;
    for (const other of others) {
      const clash = subnetsOf(other).find((p) => prefixesOverlap(p, mine));
      if (clash) {
        throw invalidArgument(
          `invalid pool request: Pool overlaps with other one on this address space ` +
            `(${formatPrefix(mine)} overlaps ${formatPrefix(clash)} of network ${other.Spec.Name})`,
        );
      }
    }
  }
}

export function getNetwork(deps: CoreDeps, input: string): Network {
  return publicNetwork(deps.store.view((tx) => resolveNetwork(tx, input)));
}

/** True when `input` names a live swarm network (so the Engine API route answers it). */
export function hasNetwork(deps: CoreDeps, input: string): boolean {
  try {
    deps.store.view((tx) => resolveNetwork(tx, input));
    return true;
  } catch {
    return false;
  }
}

const NETWORK_FILTERS = ["driver", "id", "label", "name", "scope", "type", "dangling"];

/** moby's network filters: name and id match substrings, driver and scope exactly, type custom|builtin. */
export function listNetworks(deps: CoreDeps, filters: Filters = {}): Network[] {
  validateFilterKeys(filters, NETWORK_FILTERS);
  const names = filterValues(filters, "name");
  const ids = filterValues(filters, "id");
  const labels = labelFilterMap(filterValues(filters, "label"));
  const types = filterValues(filters, "type");
  for (const t of types)
    if (t !== "custom" && t !== "builtin") throw invalidArgument(`invalid filter: 'type'='${t}'`);
  const matches = (value: string, wanted: readonly string[]) =>
    wanted.length === 0 || wanted.some((w) => value.includes(w));
  return deps.store.view((tx) =>
    tx
      .list("networks")
      .filter(
        (n) =>
          live(n) &&
          n.Spec.Labels?.[PREDEFINED_LABEL] !== "true" &&
          matches(n.Spec.Name, names) &&
          matches(n.ID, ids) &&
          matchesLabels(n.Spec.Labels, labels) &&
          matchesExact("overlay", filterValues(filters, "driver")) &&
          matchesExact("swarm", filterValues(filters, "scope")) &&
          matchesExact("custom", types),
      )
      .map(publicNetwork),
  );
}

/**
 * Removes a network: refused while a service uses it (or, for ingress, publishes ingress ports),
 * deferred (PendingDelete) while tasks that still hold addresses in it terminate.
 */
export async function removeNetwork(deps: CoreDeps, input: string): Promise<void> {
  await deps.store.update((tx) => {
    const n = resolveNetwork(tx, input);
    if (n.Spec.Labels?.[PREDEFINED_LABEL] === "true") {
      throw failedPrecondition(
        rpcText(
          "FailedPrecondition",
          `network ${n.ID} (${n.Spec.Name}) is a swarm predefined network and cannot be removed`,
        ),
      );
    }
    for (const s of tx.list("services")) {
      const ports = s.Spec?.EndpointSpec?.Ports ?? [];
      if (isIngressNetwork(n)) {
        if (ports.some((p) => (p.PublishMode ?? "ingress") === "ingress")) {
          throw failedPrecondition(
            rpcText(
              "FailedPrecondition",
              `ingress network cannot be removed because service ${s.ID} depends on it`,
            ),
          );
        }
      } else if ((s.Spec?.TaskTemplate?.Networks ?? []).some((a) => a.Target === n.ID)) {
        throw failedPrecondition(
          rpcText("FailedPrecondition", `network ${n.ID} is in use by service ${s.ID}`),
        );
      }
    }
    const users = tx.list("tasks").filter((t) => taskUsesNetwork(t, n.ID));
    const running = users.find(
      (t) =>
        TaskStates[t.DesiredState ?? "running"] <= TaskStates.running &&
        TaskStates[t.Status?.State ?? "new"] <= TaskStates.running,
    );
    if (running)
      throw failedPrecondition(
        rpcText("FailedPrecondition", `network ${n.ID} is in use by task ${running.ID}`),
      );
    if (users.some((t) => TaskStates[t.Status?.State ?? "new"] <= TaskStates.running)) {
      tx.update("networks", { ...n, PendingDelete: true, UpdatedAt: timestamp(deps.clock) });
    } else {
      tx.delete("networks", n.ID);
    }
  });
}

/** The task names the network in its spec or holds an attachment to it. */
export function taskUsesNetwork(task: Task, networkId: string): boolean {
  const t = task as NetworkedTask;
  return (
    (t.Spec?.Networks ?? []).some((a) => a.Target === networkId) ||
    (t.NetworksAttachments ?? []).some((a) => a.Network.ID === networkId)
  );
}

/** A stored network as `GET /networks` and `GET /networks/{id}` show it (moby 20.10's shape). */
export function publicNetwork(n: SwarmNetworkObject): Network {
  const ipam = n.IPAMOptions ?? n.Spec.IPAMOptions;
  return {
    Name: n.Spec.Name,
    Id: n.ID,
    Created: n.CreatedAt ?? "0001-01-01T00:00:00Z",
    Scope: "swarm",
    Driver: n.DriverState?.Name ?? n.Spec.DriverConfiguration?.Name ?? "overlay",
    EnableIPv6: n.Spec.IPv6Enabled ?? false,
    IPAM: {
      Driver: ipam?.Driver?.Name ?? "default",
      Options: ipam?.Driver?.Options ?? null,
      Config: (ipam?.Configs ?? []).map((c) => ({
        ...(c.Subnet ? { Subnet: c.Subnet } : {}),
        ...(c.Range ? { IPRange: c.Range } : {}),
        ...(c.Gateway ? { Gateway: c.Gateway } : {}),
      })),
    } as Network["IPAM"],
    Internal: n.Spec.Internal ?? false,
    Attachable: n.Spec.Attachable ?? false,
    Ingress: isIngressNetwork(n),
    ConfigFrom: { Network: n.Spec.ConfigFrom?.Network ?? "" },
    ConfigOnly: false,
    Containers: null,
    Options: n.DriverState?.Options ?? n.Spec.DriverConfiguration?.Options ?? null,
    Labels: n.Spec.Labels ?? {},
  } as unknown as Network;
}
