/**
 * The allocator's task step: a new task gets its network attachments (ingress when its service
 * publishes ingress ports, then its spec networks, with aliases) and one address on each, a copy of
 * its service's endpoint, and moves to pending, ready for the scheduler. It waits while its service
 * or one of its networks is not allocated. A task that will never run (desired shutdown or remove)
 * is left for the reaper; job tasks (desired complete) and held restarts (desired ready) are
 * allocated like any other. A task that cannot get its addresses stays new, as in Swarm, but
 * shows why in `Status.Err` (Swarm only logs it), until a later pass allocates it.
 */
import type { NetworkedTask, Service, SwarmNetworkAttachment, SwarmNetworkObject } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { type Endpoint, needsIngress } from "./endpoint.ts";
import { networkCopy, taskOwner } from "./rebuild.ts";
import type { AllocatorState } from "./state.ts";

export const MSG_PENDING = "pending task scheduling";

/** New, and meant to run (or complete, or wait for a restart): the allocator's to move on. */
export function needsTaskAllocation(t: NetworkedTask): boolean {
  return t.Status?.State === "new" && TaskStates[t.DesiredState ?? "running"] <= TaskStates.complete;
}

export interface TaskContext {
  /** Services whose endpoint is allocated, by ID. */
  services: ReadonlyMap<string, Service>;
  endpoints: ReadonlyMap<string, Endpoint>;
  networks: ReadonlyMap<string, SwarmNetworkObject>;
  ingress: SwarmNetworkObject | undefined;
  now: string;
}

interface Wanted {
  networkId: string;
  aliases?: string[];
  driverOpts?: Record<string, string>;
}

function wantedNetworks(
  t: NetworkedTask,
  service: Service | undefined,
  ingress: SwarmNetworkObject | undefined,
): Wanted[] {
  const out: Wanted[] = [];
  if (service && needsIngress(service) && ingress) out.push({ networkId: ingress.ID });
  const spec = t.Spec?.Networks?.length ? t.Spec.Networks : (service?.Spec?.TaskTemplate?.Networks ?? []);
  for (const a of spec) {
    out.push({
      networkId: a.Target ?? "",
      ...(a.Aliases?.length ? { aliases: [...a.Aliases] } : {}),
      ...(a.DriverOpts ? { driverOpts: { ...a.DriverOpts } } : {}),
    });
  }
  return out;
}

/** The allocated task and the networks it took addresses in; or why it waits. */
export function allocateTask(
  state: AllocatorState,
  t: NetworkedTask,
  ctx: TaskContext,
): { task: NetworkedTask; touched: Set<string> } | string {
  const service = t.ServiceID ? ctx.services.get(t.ServiceID) : undefined;
  if (t.ServiceID && !service) return `service ${t.ServiceID} is missing or not allocated yet`;
  const owner = taskOwner(t.ID);
  const taken: Array<[string, string]> = [];
  const touched = new Set<string>();
  const attachments: SwarmNetworkAttachment[] = [];
  for (const w of wantedNetworks(t, service, ctx.ingress)) {
    const network = ctx.networks.get(w.networkId);
    const why = !network
      ? `network ${w.networkId} not found`
      : network.PendingDelete
        ? `network ${w.networkId} is being removed`
        : !state.isAllocated(w.networkId)
          ? `network ${w.networkId} not allocated yet`
          : undefined;
    const had = (t.NetworksAttachments ?? [])
      .find((a) => a.Network.ID === w.networkId)
      ?.Addresses?.find((addr) => state.holds(w.networkId, addr, owner));
    const addr = why ? undefined : (had ?? state.allocateAddress(w.networkId, owner));
    if (!network || why || !addr) {
      for (const [net, a] of taken) state.releaseAddress(net, a, owner);
      return why ?? `could not find an available IP on network ${network?.Spec.Name || w.networkId}`;
    }
    if (!had) {
      taken.push([w.networkId, addr]);
      touched.add(w.networkId);
    }
    attachments.push({
      Network: networkCopy(network),
      Addresses: [addr],
      ...(w.aliases ? { Aliases: w.aliases } : {}),
      ...(w.driverOpts ? { DriverAttachmentOpts: w.driverOpts } : {}),
    });
  }
  const { Err: _waited, ...status } = t.Status ?? {};
  const task: NetworkedTask = {
    ...t,
    Status: { ...status, State: "pending", Message: MSG_PENDING, Timestamp: ctx.now },
  };
  if (attachments.length > 0) task.NetworksAttachments = attachments;
  const endpoint = t.ServiceID ? ctx.endpoints.get(t.ServiceID) : undefined;
  if (endpoint) task.Endpoint = structuredClone(endpoint);
  return { task, touched };
}
