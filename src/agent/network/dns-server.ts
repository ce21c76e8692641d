/**
 * The node's DNS server for service discovery: one UDP socket on port 53 of each shoal bridge's
 * gateway address. Task containers get that address as `--dns`, so dockerd's embedded resolver
 * answers container names itself and forwards everything else here (from inside the container's
 * netns, so the source is the container's own address). Service names are answered from the peer
 * view (dns-answer.ts); other names are relayed to the host's resolvers.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import * as dnsPacket from "dns-packet";
import type { NetworkPeers } from "../../api/index.ts";
import type { Logger } from "../../base/index.ts";
import { type DnsLookup, lookup, rotate } from "./dns-answer.ts";

const TTL_SECONDS = 0;
const FORWARD_TIMEOUT_MS = 3000;

/** What the server needs to answer one client. */
export interface DnsContext {
  peers(): NetworkPeers | undefined;
  /** The swarm networks of the container with this address; the listening network when unknown. */
  networksOf(clientIp: string, serverAddress: string): ReadonlySet<string>;
}

/** The host's nameservers from resolv.conf (the daemon runs in the host's netns). */
export function hostNameservers(text: string = readResolvConf()): string[] {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === "nameserver" && f[1])
    .map((f) => f[1]!);
}

function readResolvConf(): string {
  try {
    return readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
}

/** The reply packet for a lookup that shoal answers. */
export function answerPacket(query: dnsPacket.DecodedPacket, result: DnsLookup & { kind: "answer" }): Buffer {
  const q = query.questions?.[0];
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER |
      dnsPacket.RECURSION_AVAILABLE |
      ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions: query.questions,
    answers: q
      ? result.addresses.map((data) => ({
          type: "A" as const,
          class: "IN" as const,
          name: q.name,
          ttl: TTL_SECONDS,
          data,
        }))
      : [],
  });
}

export class DnsServer {
  private readonly sockets = new Map<string, Socket>();
  private readonly upstream: string[];
  /** Counts multi-address answers, for the round robin over them. */
  private turn = 0;

  constructor(
    private readonly ctx: DnsContext,
    private readonly logger: Logger,
    upstream?: string[],
  ) {
    this.upstream = upstream ?? hostNameservers();
  }

  /** Addresses listened on. */
  addresses(): string[] {
    return [...this.sockets.keys()];
  }

  /** Listens on `address`:53 (idempotent). */
  async listen(address: string): Promise<void> {
    if (this.sockets.has(address)) return;
    const socket = createSocket("udp4");
    this.sockets.set(address, socket);
    socket.on("message", (msg, rinfo) => void this.handle(socket, address, msg, rinfo));
    socket.on("error", (err) => this.logger.warn({ err, address }, "dns socket error"));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(53, address, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      this.sockets.delete(address);
      socket.close();
      throw err;
    }
  }

  close(address: string): void {
    const s = this.sockets.get(address);
    if (!s) return;
    this.sockets.delete(address);
    s.close();
  }

  closeAll(): void {
    for (const a of [...this.sockets.keys()]) this.close(a);
  }

  private async handle(socket: Socket, address: string, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    const result: DnsLookup = q
      ? lookup(this.ctx.peers(), this.ctx.networksOf(rinfo.address, address), q.name, q.type)
      : { kind: "forward" };
    try {
      const reply =
        result.kind === "answer" ? answerPacket(query, this.roundRobin(result)) : await this.forward(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    } catch (err) {
      this.logger.debug({ err, name: q?.name }, "dns reply failed");
    }
  }

  private roundRobin(result: DnsLookup & { kind: "answer" }): DnsLookup & { kind: "answer" } {
    if (result.addresses.length < 2) return result;
    return { kind: "answer", addresses: rotate(result.addresses, this.turn++) };
  }

  /** Relays a query to the first host resolver that answers. */
  private async forward(msg: Buffer): Promise<Buffer | undefined> {
    for (const server of this.upstream) {
      const reply = await relay(msg, server).catch(() => undefined);
      if (reply) return reply;
    }
    return undefined;
  }
}

function relay(msg: Buffer, server: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = createSocket(server.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, FORWARD_TIMEOUT_MS);
    s.once("message", (reply) => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      s.close();
      reject(err);
    });
    s.send(msg, 53, server);
  });
}
