/**
 * Swarm-scope networks as the manager stores them: SwarmKit's Network object in moby's JSON names
 * (`swarm.Network`), plus the allocation results the data plane reads. Who writes what:
 *
 * - control API: `Spec` (create), `PendingDelete` (delete while tasks still terminate).
 * - allocator: `IPAMOptions` (subnet, gateway, range per config), `DriverState` (the overlay VNIs
 *   in `Options["com.docker.network.driver.overlay.vxlanid_list"]`, comma-separated, one per
 *   subnet) and `Allocator.Generation` (a guard bumped by every allocation pass that hands out
 *   anything in this network, so two concurrent passes conflict in the store instead of handing
 *   out one address twice).
 */
import type { Node } from "./shoal.ts";
import type { SwarmTask } from "./swarm-task.ts";

/** The driver option holding a network's VNIs (one per subnet, comma-separated). */
export const VXLAN_ID_LIST_OPTION = "com.docker.network.driver.overlay.vxlanid_list";
/** The driver option that asks for IPsec between nodes. */
export const ENCRYPTED_OPTION = "encrypted";

export interface NetworkDriver {
  Name?: string;
  Options?: Record<string, string>;
}

/** One IPAM pool: CIDR subnet, optional sub-range for addresses, gateway IP (no prefix). */
export interface IpamPool {
  Subnet?: string;
  Range?: string;
  Gateway?: string;
}

export interface IpamOptions {
  Driver?: NetworkDriver;
  Configs?: IpamPool[];
}

export interface SwarmNetworkSpec {
  Name: string;
  Labels?: Record<string, string>;
  DriverConfiguration?: NetworkDriver;
  IPv6Enabled?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  IPAMOptions?: IpamOptions;
  ConfigFrom?: { Network: string };
  Scope?: string;
}

/** A swarm-scope network as stored. */
export interface SwarmNetworkObject {
  ID: string;
  Version?: { Index?: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: SwarmNetworkSpec;
  /** Allocated: the driver and its state (VNIs). Absent until the allocator has run. */
  DriverState?: NetworkDriver;
  /** Allocated: the pools actually used (subnet and gateway always filled in). */
  IPAMOptions?: IpamOptions;
  /** Removal requested while tasks still use it; the allocator deletes it once they are gone. */
  PendingDelete?: boolean;
  /** shoal extension: the allocator's concurrency guard (never shown by the Engine API). */
  Allocator?: { Generation: number };
}

/**
 * A task's (or a node's) attachment to a network: SwarmKit's NetworkAttachment. `Addresses` are
 * CIDR strings such as "10.0.1.5/24"; `Network` is a copy of the network object when allocated.
 */
export interface SwarmNetworkAttachment {
  Network: SwarmNetworkObject;
  Addresses?: string[];
  Aliases?: string[];
  DriverAttachmentOpts?: Record<string, string>;
}

/** A task with SwarmKit's network attachments (`NetworksAttachments` in the Engine API). */
export type NetworkedTask = Omit<SwarmTask, "NetworksAttachments"> & {
  NetworksAttachments?: SwarmNetworkAttachment[];
};

/**
 * A node with SwarmKit's `attachments`: one address per overlay network the node has live tasks
 * on, plus ingress (the load-balancer / node address used for node-originated traffic and mesh
 * SNAT). The Engine API never shows it.
 */
export type NetworkedNode = Node & { Attachments?: SwarmNetworkAttachment[] };

/** SwarmKit's IsIngressNetwork, including the legacy label form. */
export function isIngressNetwork(n: SwarmNetworkObject): boolean {
  if (n.Spec.Ingress) return true;
  return n.Spec.Name === "ingress" && n.Spec.Labels?.["com.docker.swarm.internal"] !== undefined;
}
