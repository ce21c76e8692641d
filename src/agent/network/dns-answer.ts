/**
 * Service discovery's answers (pure), as Swarm's embedded DNS gives them: `<service>` is the
 * service's VIP (or its task addresses for `dnsrr`), `tasks.<service>` the addresses of its running
 * tasks, both only on the networks the asking container shares with the service. Anything else is
 * not ours: the server forwards it to the host's resolvers.
 */
import type { NetworkPeers } from "../../api/index.ts";

export type DnsLookup =
  /** The name is a service's: these IPv4 addresses (possibly none, e.g. for AAAA). */
  | { kind: "answer"; addresses: string[] }
  /** Not a name shoal knows: ask the host's resolvers. */
  | { kind: "forward" };

const ip = (cidr: string): string => cidr.split("/")[0] ?? "";

/** Addresses of a service's running tasks on `networks`, sorted. */
function taskAddresses(peers: NetworkPeers, serviceId: string, networks: ReadonlySet<string>): string[] {
  return peers.tasks
    .filter((t) => t.ServiceID === serviceId)
    .flatMap((t) => t.Addresses.filter((a) => networks.has(a.NetworkID)).map((a) => ip(a.Addr)))
    .filter((a) => !a.includes(":"))
    .sort();
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
  const service = peers.services.find(
    (s) =>
      s.Name.toLowerCase() === serviceName &&
      (s.VirtualIPs.some((v) => networks.has(v.NetworkID)) ||
        peers.tasks.some((t) => t.ServiceID === s.ID && t.Addresses.some((a) => networks.has(a.NetworkID)))),
  );
  if (!service) return { kind: "forward" };
  if (type !== "A") return { kind: "answer", addresses: [] };
  if (tasksOf || service.Mode === "dnsrr") {
    return { kind: "answer", addresses: taskAddresses(peers, service.ID, networks) };
  }
  const vips = service.VirtualIPs.filter((v) => networks.has(v.NetworkID)).map((v) => ip(v.Addr));
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
