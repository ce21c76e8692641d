/**
 * `POST /networks/create` (swarm scope) → a NetworkSpec, with the checks moby (daemon
 * `validateIpamConfig`, `convert.BasicNetworkCreateToGRPC`) and SwarmKit (`controlapi/network.go`
 * validateNetworkSpec) make, in their words. Subnet overlap with other swarm networks is checked
 * in networks.ts against the store.
 */
import type { IpamPool, SwarmNetworkSpec } from "../../api/index.ts";
import { ENCRYPTED_OPTION } from "../../api/index.ts";
import { ErrorCode, invalidArgument, ShoalError } from "../../base/index.ts";
import { formatPrefix, parseCidr, parseIp, prefixContains, prefixSize } from "../common/cidr.ts";
import { invalid, validateServiceName } from "./service-validate.ts";
import { rpcText } from "./swarm.ts";

/** The Engine API's network create body (the fields shoal reads). */
export interface NetworkCreateRequest {
  Name?: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  EnableIPv6?: boolean;
  IPAM?: {
    Driver?: string;
    Options?: Record<string, string> | null;
    Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string }> | null;
  } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export const PREDEFINED_LABEL = "com.docker.swarm.predefined";
const PREDEFINED_NAMES = ["bridge", "host", "none", "default"];

const permissionDenied = (message: string): ShoalError => new ShoalError(ErrorCode.PermissionDenied, message);

/** The spec to store; throws with moby's or SwarmKit's message. */
export function networkSpecFromRequest(req: NetworkCreateRequest): SwarmNetworkSpec {
  const name = req.Name ?? "";
  if (PREDEFINED_NAMES.includes(name)) {
    throw permissionDenied(`${name} is a pre-defined network and cannot be created`);
  }
  const driver = req.Driver || "overlay";
  if (driver !== "overlay") {
    throw invalidArgument(
      `network driver "${driver}" is not supported for swarm-scoped networks: shoal only supports the overlay driver there`,
    );
  }
  if (req.Scope && req.Scope !== "swarm") {
    throw invalidArgument(`the overlay driver only creates swarm-scoped networks, not scope "${req.Scope}"`);
  }
  if (req.ConfigOnly || req.ConfigFrom?.Network) {
    throw invalidArgument("config-only networks and --config-from are not supported for swarm networks");
  }
  if (req.EnableIPv6) throw invalidArgument("IPv6 is not supported on shoal overlay networks");
  const pools = validatePools(req.IPAM?.Config ?? []);
  const spec: SwarmNetworkSpec = {
    Name: name,
    Labels: req.Labels ?? {},
    DriverConfiguration: { Name: driver, ...(req.Options ? { Options: { ...req.Options } } : {}) },
    Scope: "swarm",
  };
  if (req.Internal) spec.Internal = true;
  if (req.Attachable) spec.Attachable = true;
  if (req.Ingress) spec.Ingress = true;
  if (req.IPAM) {
    spec.IPAMOptions = {
      Driver: {
        Name: req.IPAM.Driver || "default",
        ...(req.IPAM.Options ? { Options: req.IPAM.Options } : {}),
      },
      Configs: pools,
    };
  }
  validateNetworkSpec(spec);
  return spec;
}

/** SwarmKit's validateNetworkSpec (the parts that apply to overlay networks). */
export function validateNetworkSpec(spec: SwarmNetworkSpec): void {
  if (spec.Attachable && spec.Ingress) throw invalid("ingress network cannot be attachable");
  validateServiceName(spec.Name);
  if (spec.Labels && PREDEFINED_LABEL in spec.Labels) {
    throw permissionDenied(
      rpcText(
        "PermissionDenied",
        `label ${PREDEFINED_LABEL} is for internally created predefined networks and cannot be applied by users`,
      ),
    );
  }
  const ipamDriver = spec.IPAMOptions?.Driver?.Name ?? "default";
  if (ipamDriver !== "default") throw invalid(`plugin ${ipamDriver} not supported`);
}

/** True when the create asks for IPsec (`--opt encrypted`, any value, as libnetwork reads it). */
export const wantsEncryption = (spec: SwarmNetworkSpec): boolean =>
  spec.DriverConfiguration?.Options?.[ENCRYPTED_OPTION] !== undefined;

/** moby's validateIpamConfig (IPv4): masked subnets, range and gateway inside. */
function validatePools(
  configs: NonNullable<NonNullable<NetworkCreateRequest["IPAM"]>["Config"]>,
): IpamPool[] {
  const errs: string[] = [];
  const pools: IpamPool[] = [];
  for (const c of configs) {
    const subnet = parseCidr(c.Subnet ?? "");
    if (!subnet) {
      errs.push(`invalid subnet ${c.Subnet ?? ""}: not an IPv4 CIDR`);
      continue;
    }
    const masked = { base: subnet.ip - (subnet.ip % prefixSize(subnet.bits)), bits: subnet.bits };
    if (masked.base !== subnet.ip)
      errs.push(`invalid subnet ${c.Subnet}: it should be ${formatPrefix(masked)}`);
    if (subnet.bits > 30)
      errs.push(`invalid subnet ${c.Subnet}: too small for an overlay network (at most /30)`);
    const pool: IpamPool = { Subnet: formatPrefix(masked) };
    if (c.IPRange) {
      const range = parseCidr(c.IPRange);
      if (!range) errs.push(`invalid ip-range ${c.IPRange}: not an IPv4 CIDR`);
      else {
        const rangeMasked = { base: range.ip - (range.ip % prefixSize(range.bits)), bits: range.bits };
        if (range.bits < subnet.bits)
          errs.push(
            `invalid ip-range ${c.IPRange}: CIDR block is bigger than its parent subnet ${pool.Subnet}`,
          );
        if (rangeMasked.base !== range.ip)
          errs.push(`invalid ip-range ${c.IPRange}: it should be ${formatPrefix(rangeMasked)}`);
        if (!prefixContains(masked, range.ip))
          errs.push(`invalid ip-range ${c.IPRange}: parent subnet ${pool.Subnet} doesn't contain ip-range`);
        pool.Range = formatPrefix(rangeMasked);
      }
    }
    if (c.Gateway) {
      const gw = parseIp(c.Gateway);
      if (gw === undefined) errs.push(`invalid gateway ${c.Gateway}: not an IPv4 address`);
      else if (!prefixContains(masked, gw))
        errs.push(`invalid gateway ${c.Gateway}: parent subnet ${pool.Subnet} doesn't contain this address`);
      pool.Gateway = c.Gateway;
    }
    pools.push(pool);
  }
  if (errs.length === 1) throw invalidArgument(`invalid network config:\n${errs[0]}`);
  if (errs.length > 1) throw invalidArgument(`invalid network config:\n* ${errs.join("\n* ")}`);
  return pools;
}
