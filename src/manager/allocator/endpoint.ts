/**
 * A service's Endpoint (SwarmKit's allocateService): `Spec` copied from the service spec, `Ports`
 * with ingress ports reserved (an explicit published port exactly; published port 0 keeps the port
 * it was given before or takes the next free one from 30000–32767, serially, per protocol; host
 * ports copied and not allocated), and in VIP mode one VIP per attached network plus one on ingress
 * when the service publishes ingress ports. DNSRR frees the VIPs.
 */
import type { EndpointPortConfig, Service, SwarmNetworkObject } from "../../api/index.ts";
import { svcOwner } from "./rebuild.ts";
import { type AllocatorState, DYNAMIC_PORT_END, DYNAMIC_PORT_START, PROTOCOLS } from "./state.ts";

export type Endpoint = NonNullable<Service["Endpoint"]>;
type VirtualIp = NonNullable<Endpoint["VirtualIPs"]>[number];

export interface EndpointResult {
  endpoint: Endpoint;
  /** Networks in which a new VIP was handed out; "ports" when a new ingress port was. */
  touched: Set<string>;
  tookPorts: boolean;
}

/** SwarmKit's IsIngressNetworkNeeded: some port publishes in ingress mode. */
export const needsIngress = (s: Service): boolean =>
  (s.Spec?.EndpointSpec?.Ports ?? []).some((p) => (p.PublishMode ?? "ingress") === "ingress");

export const serviceNetworkIds = (s: Service): string[] =>
  (s.Spec?.TaskTemplate?.Networks ?? []).map((n) => n.Target ?? "").filter(Boolean);

const protocolOf = (p: EndpointPortConfig): string => PROTOCOLS.find((x) => x === p.Protocol) ?? "tcp";
const sameTarget = (a: EndpointPortConfig, b: EndpointPortConfig) =>
  (a.Name ?? "") === (b.Name ?? "") && protocolOf(a) === protocolOf(b) && a.TargetPort === b.TargetPort;

/**
 * The endpoint the service should have, with its resources reserved in `state`; or why not (the
 * service then waits, and so do its tasks). Resources it held and no longer needs are released.
 */
export function allocateEndpoint(
  state: AllocatorState,
  s: Service,
  ingress: SwarmNetworkObject | undefined,
): EndpointResult | string {
  const owner = svcOwner(s.ID);
  const undo: Array<() => void> = [];
  const fail = (why: string): string => {
    for (const u of undo.reverse()) u();
    return why;
  };
  const ports = allocatePorts(state, s, undo);
  if (typeof ports === "string") return fail(ports);
  const vips = allocateVips(state, s, ingress, undo);
  if (typeof vips === "string") return fail(vips);
  // Release what the service held and no longer needs.
  const keptPorts = new Set(
    ports.ports.filter((p) => p.PublishMode !== "host").map((p) => `${protocolOf(p)}/${p.PublishedPort}`),
  );
  for (const p of s.Endpoint?.Ports ?? []) {
    if (p.PublishMode === "host" || !p.PublishedPort || keptPorts.has(`${protocolOf(p)}/${p.PublishedPort}`))
      continue;
    state.portSpace(protocolOf(p)).release(p.PublishedPort, owner);
  }
  for (const v of s.Endpoint?.VirtualIPs ?? []) {
    if (!vips.vips.some((k) => k.NetworkID === v.NetworkID && k.Addr === v.Addr)) {
      state.releaseAddress(v.NetworkID ?? "", v.Addr ?? "", owner);
    }
  }
  const endpoint: Endpoint = { Spec: structuredClone(s.Spec?.EndpointSpec ?? {}) };
  if (ports.ports.length > 0) endpoint.Ports = ports.ports;
  if (vips.vips.length > 0) endpoint.VirtualIPs = vips.vips;
  return { endpoint, touched: vips.touched, tookPorts: ports.took };
}

function allocatePorts(
  state: AllocatorState,
  s: Service,
  undo: Array<() => void>,
): { ports: EndpointPortConfig[]; took: boolean } | string {
  const owner = svcOwner(s.ID);
  const spec = s.Spec?.EndpointSpec?.Ports ?? [];
  const previous = (s.Endpoint?.Ports ?? []).filter((p) => p.PublishMode !== "host" && p.PublishedPort);
  const out: EndpointPortConfig[] = spec.map((p) => ({ ...p }));
  let took = false;
  const reserve = (protocol: string, port: number): boolean => {
    const space = state.portSpace(protocol);
    if (space.owner(port) === owner) return true;
    if (!space.reserve(port, owner)) return false;
    undo.push(() => space.release(port, owner));
    took = true;
    return true;
  };
  // Explicit ports first, so a dynamic port never takes one the spec names.
  for (const p of out) {
    if (p.PublishMode === "host" || !p.PublishedPort) continue;
    if (!reserve(protocolOf(p), p.PublishedPort)) {
      const holder = state.portSpace(protocolOf(p)).owner(p.PublishedPort) ?? "";
      return `port '${p.PublishedPort}' is already in use by ${holder.replace(/^svc:/, "service ")}`;
    }
    const i = previous.findIndex((q) => q.PublishedPort === p.PublishedPort && sameTarget(p, q));
    if (i >= 0) previous.splice(i, 1);
  }
  for (const p of out) {
    if (p.PublishMode === "host" || p.PublishedPort) continue;
    const i = previous.findIndex(
      (q) => sameTarget(p, q) && state.portSpace(protocolOf(q)).owner(q.PublishedPort ?? 0) === owner,
    );
    const reuse = i >= 0 ? previous.splice(i, 1)[0] : undefined;
    if (reuse?.PublishedPort) {
      p.PublishedPort = reuse.PublishedPort;
      continue;
    }
    const space = state.portSpace(protocolOf(p));
    const port = space.next(owner, DYNAMIC_PORT_START, DYNAMIC_PORT_END);
    if (port === undefined)
      return `no free port in ${DYNAMIC_PORT_START}-${DYNAMIC_PORT_END} for ${protocolOf(p)}`;
    undo.push(() => space.release(port, owner));
    took = true;
    p.PublishedPort = port;
  }
  return { ports: out, took };
}

function allocateVips(
  state: AllocatorState,
  s: Service,
  ingress: SwarmNetworkObject | undefined,
  undo: Array<() => void>,
): { vips: VirtualIp[]; touched: Set<string> } | string {
  const touched = new Set<string>();
  if ((s.Spec?.EndpointSpec?.Mode ?? "vip") === "dnsrr") return { vips: [], touched };
  const wanted = serviceNetworkIds(s);
  if (needsIngress(s)) {
    if (!ingress) return "ingress network is missing";
    wanted.unshift(ingress.ID);
  }
  const owner = svcOwner(s.ID);
  const vips: VirtualIp[] = [];
  for (const networkId of wanted) {
    if (!state.isAllocated(networkId)) return `network ${networkId} is not allocated yet`;
    const had = (s.Endpoint?.VirtualIPs ?? []).find(
      (v) => v.NetworkID === networkId && state.holds(networkId, v.Addr ?? "", owner),
    );
    if (had) {
      vips.push({ NetworkID: networkId, Addr: had.Addr ?? "" });
      continue;
    }
    const addr = state.allocateAddress(networkId, owner);
    if (!addr) return `could not find an available IP while allocating VIP on network ${networkId}`;
    undo.push(() => state.releaseAddress(networkId, addr, owner));
    touched.add(networkId);
    vips.push({ NetworkID: networkId, Addr: addr });
  }
  return { vips, touched };
}
