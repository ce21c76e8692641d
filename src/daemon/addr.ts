import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { invalidArgument } from "../base/index.ts";

export const DEFAULT_SWARM_PORT = 2377;

export interface ResolvedAddrs {
  /** Address others reach this node at, without port. */
  advertiseAddr: string;
  advertisePort: number;
  listenHost: string;
  listenPort: number;
}

function splitHostPort(value: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(value);
  if (!m) throw invalidArgument(`invalid address ${value}`);
  const port = m[2] ? Number.parseInt(m[2], 10) : defaultPort;
  if (port < 1 || port > 65535) throw invalidArgument(`invalid port in address ${value}`);
  return { host: m[1] ?? "", port };
}

type Interfaces = ReturnType<typeof networkInterfaces>;

function interfaceAddr(name: string, ifaces: Interfaces): string | undefined {
  const addrs = (ifaces[name] ?? []).filter((a) => a.family === "IPv4");
  if (addrs.length > 1) {
    throw invalidArgument(
      `interface ${name} has more than one IPv4 address (${addrs.map((a) => a.address).join(" and ")})`,
    );
  }
  return addrs[0]?.address;
}

/** moby's choice when no address is given: the one non-loopback IPv4 address, if there is exactly one. */
function systemAddr(ifaces: Interfaces): string {
  const found: Array<{ name: string; address: string }> = [];
  for (const [name, list] of Object.entries(ifaces)) {
    for (const a of list ?? [])
      if (a.family === "IPv4" && !a.internal) found.push({ name, address: a.address });
  }
  if (found.length === 1) return (found[0] as { address: string }).address;
  if (found.length === 0) {
    throw invalidArgument("could not find the system's IP address - specify one with --advertise-addr");
  }
  const list = found.map((f) => `${f.name} has ${f.address}`).join(" and ");
  throw invalidArgument(
    `could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${list})`,
  );
}

/** Resolves `--advertise-addr` / `--listen-addr` as `docker swarm init` does (IP, interface name, or empty). */
export function resolveAddrs(
  listenAddr: string | undefined,
  advertiseAddr: string | undefined,
  ifaces = networkInterfaces(),
): ResolvedAddrs {
  const listen = splitHostPort(listenAddr || `0.0.0.0:${DEFAULT_SWARM_PORT}`, DEFAULT_SWARM_PORT);
  const listenHost = isIP(listen.host) ? listen.host : (interfaceAddr(listen.host, ifaces) ?? listen.host);
  let adv = { host: "", port: listen.port };
  if (advertiseAddr) adv = splitHostPort(advertiseAddr, listen.port);
  let host = adv.host;
  if (host && !isIP(host)) {
    const fromIface = interfaceAddr(host, ifaces);
    if (!fromIface)
      throw invalidArgument(
        `advertise address must be a non-zero IP address or network interface (with optional port number)`,
      );
    host = fromIface;
  }
  if (!host) host = listenHost !== "0.0.0.0" && isIP(listenHost) ? listenHost : systemAddr(ifaces);
  if (host === "0.0.0.0") {
    throw invalidArgument(
      "advertise address must be a non-zero IP address or network interface (with optional port number)",
    );
  }
  return { advertiseAddr: host, advertisePort: adv.port, listenHost, listenPort: listen.port };
}
