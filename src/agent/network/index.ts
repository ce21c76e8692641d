/**
 * agent/network: the node's data plane for swarm networks (single node today): local bridge
 * networks with the cluster's subnets, service discovery DNS on their gateways, and VIP load
 * balancing by nftables DNAT inside each task container's netns.
 */
export { DataPlane, type DataPlaneOptions } from "./dataplane.ts";
export { type DnsLookup, lookup } from "./dns-answer.ts";
export { answerPacket, type DnsContext, DnsServer, hostNameservers } from "./dns-server.ts";
export { NetworkedEngine } from "./engine.ts";
export { loadRuleset } from "./nft.ts";
export {
  entryCommands,
  macOf,
  type RemoteEndpoint,
  remoteEndpoints,
  selfAddress,
  vxlanCommands,
  vxlanDevice,
} from "./overlay.ts";
export {
  LABEL_SHOAL_NETWORK,
  LABEL_SHOAL_NETWORK_ID,
  type LocalNetwork,
  localNetworkName,
  localNetworkOf,
  taskEndpoints,
  type VipBackends,
  vipBackends,
  vipRuleset,
  wantedNetworks,
} from "./plan.ts";
export { linkExists, run } from "./shell.ts";
export type { ExistingNetwork, LocalNetworkDriver, RulesetLoader } from "./types.ts";
