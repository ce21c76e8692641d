/**
 * agent/network: the node's data plane for swarm networks: local bridge networks with the
 * cluster's subnets joined across nodes by VXLAN, service discovery DNS on their gateways, VIP load
 * balancing by nftables DNAT inside each task container's netns, and the routing mesh (published
 * ports on every node) by nftables DNAT in the node's netns.
 */
export { ContainerRules, type NetnsRunner } from "./container-rules.ts";
export { DataPlane, type DataPlaneOptions } from "./dataplane.ts";
export { type DnsLookup, lookup } from "./dns-answer.ts";
export { answerPacket, type DnsContext, DnsServer, hostNameservers } from "./dns-server.ts";
export { NetworkedEngine } from "./engine.ts";
export {
  bridgeCommands,
  type MeshPlan,
  type MeshRule,
  meshPlan,
  meshRuleset,
  meshTable,
} from "./mesh.ts";
export { loadNodeRuleset, loadRuleset } from "./nft.ts";
export { NodeMesh, type NodeMeshOptions } from "./node-mesh.ts";
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
export { alive, linkExists, run, runIn } from "./shell.ts";
export type { ExistingNetwork, LocalNetworkDriver, RulesetLoader } from "./types.ts";
