/**
 * The allocator's in-memory view of what is handed out: subnets, VNIs, published ports, and per
 * network the addresses (gateway, VIPs, task and node addresses). It is always rebuilt from the
 * store (rebuild.ts); the only thing kept between passes is the serial cursors, so a freed address
 * or port is not handed out again at once.
 */
import type { IpamPool, NetworkDriver, SwarmNetworkObject } from "../../api/index.ts";
import { VXLAN_ID_LIST_OPTION } from "../../api/index.ts";
import {
  addressOf,
  formatAddress,
  formatIp,
  formatPrefix,
  type Prefix,
  parseIp,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
  prefixLast,
  prefixSize,
} from "../common/cidr.ts";
import { IdSpace } from "./idspace.ts";

export const VNI_START = 4096;
export const VNI_END = 2 ** 24 - 1;
export const DYNAMIC_PORT_START = 30000;
export const DYNAMIC_PORT_END = 32767;
export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;

export interface AllocatorConfig {
  /** The cluster's DefaultAddrPool, parsed (default 10.0.0.0/8). */
  defaultAddrPool: Prefix[];
  /** The cluster's SubnetSize (default 24). */
  subnetSize: number;
}

export interface Pool {
  subnet: Prefix;
  range?: Prefix;
  gateway: number;
  space: IdSpace;
}

/** Serial cursors kept across passes, by space ("vni", "port/tcp", "addr/<network>/<pool>"). */
export type Cursors = Map<string, number>;

export class AllocatorState {
  readonly vnis: IdSpace;
  private readonly ports = new Map<string, IdSpace>();
  private readonly pools = new Map<string, Pool[]>();
  /** Subnets held by allocated networks, and those that unallocated networks asked for. */
  private readonly subnets: Array<{ prefix: Prefix; owner: string }> = [];
  /** What rebuild found held twice (should stay empty; reported by the controller). */
  readonly conflicts: string[] = [];

  constructor(
    readonly config: AllocatorConfig,
    private readonly cursors: Cursors = new Map(),
  ) {
    this.vnis = new IdSpace(VNI_START, VNI_END, cursors.get("vni"));
    for (const p of PROTOCOLS) this.ports.set(p, new IdSpace(1, 65535, cursors.get(`port/${p}`)));
  }

  isAllocated(networkId: string): boolean {
    return this.pools.has(networkId);
  }

  /** After a rebuild: spaces without a remembered cursor continue after their highest used ID. */
  resumeCursors(): void {
    if (!this.cursors.has("vni")) this.vnis.resumeAfterHighest();
    for (const p of PROTOCOLS) {
      if (!this.cursors.has(`port/${p}`))
        this.portSpace(p).resumeAfterHighest(DYNAMIC_PORT_START, DYNAMIC_PORT_END);
    }
    for (const [id, pools] of this.pools) {
      pools.forEach((pool, i) => {
        if (!this.cursors.has(`addr/${id}/${i}`)) pool.space.resumeAfterHighest();
      });
    }
  }

  /** The cursors to keep for the next pass. */
  saveCursors(): Cursors {
    const out: Cursors = new Map([["vni", this.vnis.cursor]]);
    for (const p of PROTOCOLS) out.set(`port/${p}`, this.portSpace(p).cursor);
    for (const [id, pools] of this.pools) {
      for (const [i, pool] of pools.entries()) out.set(`addr/${id}/${i}`, pool.space.cursor);
    }
    return out;
  }

  // Networks

  /** A subnet some network holds or asked for overlaps this one. */
  subnetTaken(prefix: Prefix, self: string): string | undefined {
    return this.subnets.find((s) => s.owner !== self && prefixesOverlap(s.prefix, prefix))?.owner;
  }

  /** An unallocated network's requested subnets: auto-assignment keeps clear of them. */
  claimSubnet(prefix: Prefix, owner: string): void {
    this.subnets.push({ prefix, owner });
  }

  /** Rebuild: an allocated network's pools, gateway and VNIs; false (and a conflict) on overlap. */
  restoreNetwork(n: SwarmNetworkObject): boolean {
    const configs = n.IPAMOptions?.Configs ?? [];
    const pools: Pool[] = [];
    for (const c of configs) {
      const subnet = parsePrefix(c.Subnet ?? "");
      const gateway = parseIp(c.Gateway ?? "");
      if (!subnet || gateway === undefined) return this.conflict(`network ${n.ID}: bad pool ${c.Subnet}`);
      const clash = this.subnetTaken(subnet, n.ID);
      if (clash) return this.conflict(`network ${n.ID}: subnet ${c.Subnet} overlaps network ${clash}`);
      pools.push(
        this.makePool(n.ID, pools.length, subnet, c.Range ? parsePrefix(c.Range) : undefined, gateway),
      );
    }
    for (const vni of vnisOf(n)) {
      if (!this.vnis.reserve(vni, n.ID))
        this.conflict(`network ${n.ID}: VNI ${vni} held by ${this.vnis.owner(vni)}`);
    }
    for (const p of pools) this.subnets.push({ prefix: p.subnet, owner: n.ID });
    this.pools.set(n.ID, pools);
    return true;
  }

  /**
   * Allocates a network: its requested subnets (or the first free one of the default pools),
   * gateways and one VNI per subnet. Returns the allocated fields, or why it cannot be done.
   */
  allocateNetwork(
    n: SwarmNetworkObject,
  ): { IPAMOptions: SwarmNetworkObject["IPAMOptions"]; DriverState: NetworkDriver } | string {
    const requested: IpamPool[] = n.Spec.IPAMOptions?.Configs?.length ? n.Spec.IPAMOptions.Configs : [{}];
    const pools: Pool[] = [];
    const out: IpamPool[] = [];
    const given = (n.Spec.DriverConfiguration?.Options?.[VXLAN_ID_LIST_OPTION] ?? "")
      .split(",")
      .filter(Boolean)
      .map(Number);
    const vnis: number[] = [];
    const undo = () => {
      for (const v of vnis) this.vnis.release(v, n.ID);
      this.subnets.splice(
        0,
        this.subnets.length,
        ...this.subnets.filter((s) => s.owner !== n.ID || !pools.some((p) => p.subnet === s.prefix)),
      );
    };
    for (const [i, c] of requested.entries()) {
      const subnet = c.Subnet ? parsePrefix(c.Subnet) : this.freeDefaultSubnet(n.ID);
      if (!subnet)
        return failed(
          undo,
          "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
        );
      const clash = c.Subnet ? this.subnetTaken(subnet, n.ID) : undefined;
      if (clash)
        return failed(
          undo,
          `invalid pool request: Pool overlaps with other one on this address space (${formatPrefix(subnet)}, network ${clash})`,
        );
      const range = c.Range ? parsePrefix(c.Range) : undefined;
      const gateway = c.Gateway ? (parseIp(c.Gateway) ?? subnet.base + 1) : subnet.base + 1;
      const vni = given[i] ?? this.vnis.next(n.ID);
      if (vni === undefined || !this.vnis.reserve(vni, n.ID))
        return failed(undo, `could not obtain vxlan id for pool ${formatPrefix(subnet)}`);
      vnis.push(vni);
      const pool = this.makePool(n.ID, i, subnet, range, gateway);
      pools.push(pool);
      this.subnets.push({ prefix: subnet, owner: n.ID });
      out.push({
        Subnet: formatPrefix(subnet),
        ...(range ? { Range: formatPrefix(range) } : {}),
        Gateway: formatIp(gateway),
      });
    }
    this.pools.set(n.ID, pools);
    const driverOpts = {
      ...(n.Spec.DriverConfiguration?.Options ?? {}),
      [VXLAN_ID_LIST_OPTION]: vnis.join(","),
    };
    return {
      IPAMOptions: {
        Driver: {
          Name: "default",
          ...(n.Spec.IPAMOptions?.Driver?.Options ? { Options: n.Spec.IPAMOptions.Driver.Options } : {}),
        },
        Configs: out,
      },
      DriverState: { Name: "overlay", Options: driverOpts },
    };
  }

  /** Forgets a network (deleted): its subnets, VNIs and addresses. */
  dropNetwork(n: SwarmNetworkObject): void {
    for (const vni of vnisOf(n)) this.vnis.release(vni, n.ID);
    this.pools.delete(n.ID);
    this.subnets.splice(0, this.subnets.length, ...this.subnets.filter((s) => s.owner !== n.ID));
  }

  private freeDefaultSubnet(owner: string): Prefix | undefined {
    const size = this.config.subnetSize;
    for (const base of this.config.defaultAddrPool) {
      if (size < base.bits) continue;
      for (let ip = base.base; ip <= prefixLast(base); ip += prefixSize(size)) {
        const candidate = { base: ip, bits: size };
        if (!this.subnetTaken(candidate, owner)) return candidate;
      }
    }
    return undefined;
  }

  private makePool(
    networkId: string,
    index: number,
    subnet: Prefix,
    range: Prefix | undefined,
    gateway: number,
  ): Pool {
    const r = range ?? subnet;
    const lo = Math.max(r.base, subnet.base + 1);
    const hi = Math.min(prefixLast(r), prefixLast(subnet) - 1);
    const space = new IdSpace(lo, hi, this.cursors.get(`addr/${networkId}/${index}`));
    space.reserve(gateway, `gw:${networkId}`);
    return { subnet, ...(range ? { range } : {}), gateway, space };
  }

  // Addresses

  /** Marks an address ("10.0.1.5/24") used by owner; false when outside the network or held. */
  reserveAddress(networkId: string, text: string, owner: string): boolean {
    const ip = addressOf(text);
    const pool = ip === undefined ? undefined : this.poolOf(networkId, ip);
    if (ip === undefined || !pool) return false;
    if (pool.space.reserve(ip, owner)) return true;
    this.conflict(`address ${text} on ${networkId}: held by ${pool.space.owner(ip)}, wanted by ${owner}`);
    return false;
  }

  /** True when the address is in the network and held by owner. */
  holds(networkId: string, text: string, owner: string): boolean {
    const ip = addressOf(text);
    return ip !== undefined && this.poolOf(networkId, ip)?.space.owner(ip) === owner;
  }

  /** The next free address in the network, as "10.0.1.5/24". */
  allocateAddress(networkId: string, owner: string): string | undefined {
    for (const pool of this.pools.get(networkId) ?? []) {
      const ip = pool.space.next(owner);
      if (ip !== undefined) return formatAddress(ip, pool.subnet.bits);
    }
    return undefined;
  }

  releaseAddress(networkId: string, text: string, owner: string): void {
    const ip = addressOf(text);
    if (ip !== undefined) this.poolOf(networkId, ip)?.space.release(ip, owner);
  }

  /** Every used address per network with its owner (for tests). */
  addressTable(): Map<string, Array<[string, string]>> {
    const out = new Map<string, Array<[string, string]>>();
    for (const [id, pools] of this.pools)
      out.set(
        id,
        pools.flatMap((p) => p.space.entries().map(([ip, o]): [string, string] => [formatIp(ip), o])),
      );
    return out;
  }

  private poolOf(networkId: string, ip: number): Pool | undefined {
    return this.pools
      .get(networkId)
      ?.find((p) => prefixContains(p.subnet, ip) && ip >= p.space.lo && ip <= p.space.hi);
  }

  // Published ports (ingress mode), one space per protocol

  portSpace(protocol: string): IdSpace {
    const space = this.ports.get(protocol) ?? this.ports.get("tcp");
    if (!space) throw new Error("no tcp port space");
    return space;
  }

  private conflict(what: string): false {
    this.conflicts.push(what);
    return false;
  }
}

function failed(undo: () => void, why: string): string {
  undo();
  return why;
}

/** The VNIs a network holds (its DriverState's vxlanid_list). */
export function vnisOf(n: SwarmNetworkObject): number[] {
  return (n.DriverState?.Options?.[VXLAN_ID_LIST_OPTION] ?? "").split(",").filter(Boolean).map(Number);
}

/** Parses the cluster's address pool settings; bad entries fall back to SwarmKit's defaults. */
export function allocatorConfig(
  pool: readonly string[] | null | undefined,
  subnetSize: number | undefined,
): AllocatorConfig {
  const parsed = (pool ?? []).map((p) => parsePrefix(p)).filter((p): p is Prefix => p !== undefined);
  const fallback = parsePrefix("10.0.0.0/8") as Prefix;
  return { defaultAddrPool: parsed.length > 0 ? parsed : [fallback], subnetSize: subnetSize || 24 };
}
