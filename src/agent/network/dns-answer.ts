/**
 * Service discovery's answers (pure), as Swarm's embedded DNS gives them: `<service>` is the
 * service's VIP (or its task addresses for `dnsrr`), `tasks.<service>` the addresses of its serving
 * tasks, both only on the networks the asking container shares with the service. A network alias
 * of the service (what `docker stack deploy` gives each service: its short name) answers the same
 * way, on the networks it is declared on. Anything else is not ours: the server forwards it to the
 * host's resolvers.
 */
import { isServing, type NetworkPeers, type PeerService } from "../../api/index.ts";

export type DnsLookup =
  /** The name is a service's: these IPv4 addresses (possibly none, e.g. for AAAA). */
  | { kind: "answer"; addresses: string[] }
  /** Not a name shoal knows: ask the host's resolvers. */
  | { kind: "forward" };

const ip = (cidr: string): string => cidr.split("/")[0] ?? "";

/** Addresses of a service's serving tasks on `networks`, sorted. */
function taskAddresses(peers: NetworkPeers, serviceId: string, networks: ReadonlySet<string>): string[] {
  return peers.tasks
    .filter((t) => t.ServiceID === serviceId && isServing(t))
    .flatMap((t) => t.Addresses.filter((a) => networks.has(a.NetworkID)).map((a) => ip(a.Addr)))
    .filter((a) => !a.includes(":"))
    .sort();
}

/** The networks, among `networks`, on which `service` is known by `name`. */
function networksNaming(
  peers: NetworkPeers,
  service: PeerService,
  name: string,
  networks: ReadonlySet<string>,
): Set<string> {
  const out = new Set<string>();
  if (service.Name.toLowerCase() === name) {
    for (const v of service.VirtualIPs) if (networks.has(v.NetworkID)) out.add(v.NetworkID);
    for (const t of peers.tasks) {
      if (t.ServiceID !== service.ID) continue;
      for (const a of t.Addresses) if (networks.has(a.NetworkID)) out.add(a.NetworkID);
    }
  }
  for (const a of service.Aliases ?? []) {
    if (a.Alias.toLowerCase() === name && networks.has(a.NetworkID)) out.add(a.NetworkID);
  }
  return out;
}

/**
 * Looks `name` up for a client on `networks`. `type` is the question type ("A", "AAAA"…): a known
 * name answers every type, with addresses only for A (the overlays are IPv4 only).
 */
export function lookup(
  peers: NetworkPeers | undefined,
  networks: ReadonlySet<string>,
  name: string,
  type: string,
): DnsLookup {
  if (!peers) return { kind: "forward" };
  const q = name.toLowerCase().replace(/\.$/, "");
  const tasksOf = q.startsWith("tasks.");
  const serviceName = tasksOf ? q.slice("tasks.".length) : q;
  let service: PeerService | undefined;
  let on = new Set<string>();
  for (const s of peers.services) {
    on = networksNaming(peers, s, serviceName, networks);
    if (on.size > 0) {
      service = s;
      break;
    }
  }
  if (!service) return { kind: "forward" };
  if (type !== "A") return { kind: "answer", addresses: [] };
  if (tasksOf || service.Mode === "dnsrr") {
    return { kind: "answer", addresses: taskAddresses(peers, service.ID, on) };
  }
  const vips = service.VirtualIPs.filter((v) => on.has(v.NetworkID)).map((v) => ip(v.Addr));
  return { kind: "answer", addresses: vips.filter((a) => !a.includes(":")) };
}

/**
 * The addresses starting at the `turn`-th (mod their count): successive answers for a dnsrr service
 * or `tasks.<service>` start with a different task, since clients connect to the first address.
 * Swarm shuffles these answers at random; a rotation spreads at least as evenly.
 */
export function rotate(addresses: readonly string[], turn: number): string[] {
  if (addresses.length < 2) return [...addresses];
  const k = turn % addresses.length;
  return [...addresses.slice(k), ...addresses.slice(0, k)];
}
