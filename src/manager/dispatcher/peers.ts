/**
 * What a node's data plane needs about the networks its tasks use (pure): the services attached to
 * them (name, endpoint mode, VIPs, aliases) and the tasks on them with their addresses, from any
 * node, flagged when they are no backend. A task is a backend only while it runs and is meant to run, so it leaves the set as soon as
 * its desired state reaches shutdown; its node keeps it running for the drain period after that
 * (agent/executor/drain.ts) so that every node drops it before it gets the stop signal.
 */
import type { NetworkedTask, NetworkPeers, PeerService, PeerTask, Service, Task } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";

const attachmentsOf = (t: Task) => (t as NetworkedTask).NetworksAttachments ?? [];

/** The network IDs the node's live tasks (state ≤ running) are attached to. */
export function nodeNetworks(tasks: Iterable<Task>, nodeId: string): Set<string> {
  const out = new Set<string>();
  for (const t of tasks) {
    if (t.NodeID !== nodeId) continue;
    if (TaskStates[t.Status?.State ?? "new"] > TaskStates.running) continue;
    for (const a of attachmentsOf(t)) if (a.Network?.ID) out.add(a.Network.ID);
  }
  return out;
}

/**
 * True when the task may serve traffic: reported RUNNING, which a task with a healthcheck reaches
 * only once healthy (the agent holds it at STARTING until then, as Swarm does), and meant to keep
 * running: its desired state is below SHUTDOWN. That is RUNNING for services and COMPLETE for jobs,
 * which run until they exit; SHUTDOWN and REMOVE are exactly what makes the agent drain and stop it.
 */
export function isBackend(t: Task): boolean {
  return t.Status?.State === "running" && TaskStates[t.DesiredState ?? "running"] < TaskStates.shutdown;
}

/**
 * True while the task's container may be attached to its networks (placed on a node, not yet past
 * running): other nodes keep overlay entries for it, so that a task still starting can answer its
 * health check's peers and a draining one can finish its connections.
 */
function onNetwork(t: Task): boolean {
  return !!t.NodeID && TaskStates[t.Status?.State ?? "new"] <= TaskStates.running;
}

/** True when a task change can change what nodes on `networks` see. */
export function touchesNetworks(t: Task | undefined, networks: ReadonlySet<string>): boolean {
  return !!t && attachmentsOf(t).some((a) => networks.has(a.Network?.ID ?? ""));
}

export function networkPeers(
  tasks: Iterable<Task>,
  services: Iterable<Service>,
  networks: ReadonlySet<string>,
  node?: { self: string; addrOf: (nodeId: string) => string | undefined },
): NetworkPeers {
  const peerTasks: PeerTask[] = [];
  for (const t of tasks) {
    if (!onNetwork(t)) continue;
    const addresses = attachmentsOf(t)
      .filter((a) => networks.has(a.Network?.ID ?? ""))
      .flatMap((a) => (a.Addresses ?? []).map((Addr) => ({ NetworkID: a.Network.ID, Addr })));
    if (addresses.length === 0) continue;
    const peer: PeerTask = {
      ID: t.ID,
      ServiceID: t.ServiceID ?? "",
      NodeID: t.NodeID ?? "",
      Addresses: addresses,
    };
    if (!isBackend(t)) peer.Serving = false;
    peerTasks.push(peer);
  }
  const peerServices: PeerService[] = [];
  for (const s of services) {
    const targets = (s.Spec?.TaskTemplate?.Networks ?? []).map((n) => n.Target ?? "");
    const vips = (s.Endpoint?.VirtualIPs ?? [])
      .filter((v) => networks.has(v.NetworkID ?? "") && v.Addr)
      .map((v) => ({ NetworkID: v.NetworkID ?? "", Addr: v.Addr ?? "" }));
    if (vips.length === 0 && !targets.some((n) => networks.has(n))) continue;
    const mode = s.Spec?.EndpointSpec?.Mode === "dnsrr" ? "dnsrr" : "vip";
    const peer: PeerService = { ID: s.ID ?? "", Name: s.Spec?.Name ?? "", Mode: mode, VirtualIPs: vips };
    const aliases = (s.Spec?.TaskTemplate?.Networks ?? []).flatMap((n) =>
      networks.has(n.Target ?? "")
        ? (n.Aliases ?? []).map((Alias) => ({ NetworkID: n.Target ?? "", Alias }))
        : [],
    );
    if (aliases.length > 0) peer.Aliases = aliases;
    peerServices.push(peer);
  }
  peerTasks.sort((a, b) => a.ID.localeCompare(b.ID));
  peerServices.sort((a, b) => a.ID.localeCompare(b.ID));
  if (!node) return { services: peerServices, tasks: peerTasks };
  const ids = [...new Set([node.self, ...peerTasks.map((t) => t.NodeID)])].sort();
  const nodes = ids.flatMap((ID) => {
    const Addr = node.addrOf(ID);
    return Addr ? [{ ID, Addr }] : [];
  });
  return { services: peerServices, tasks: peerTasks, nodes };
}
