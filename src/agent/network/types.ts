/** The ports the data plane drives: dockerd's networks (executor/docker-networks.ts) and nft. */
import type { NetworkEndpoint } from "../executor/spec.ts";
import type { LocalNetwork } from "./plan.ts";

/** A local network shoal created earlier, as dockerd lists it. */
export interface ExistingNetwork {
  name: string;
  /** The swarm network it stands for. */
  networkId: string;
  /** Its VNI (0 when unknown): the VXLAN device to delete with it. */
  vni?: number;
}

export interface LocalNetworkDriver {
  /** The local networks carrying shoal's label. */
  list(): Promise<ExistingNetwork[]>;
  /** Creates the bridge network; an existing one of that name is fine. */
  create(n: LocalNetwork): Promise<void>;
  /** Removes it; a missing one is fine. Fails while containers are still attached and running. */
  remove(name: string): Promise<void>;
  /** `POST /networks/{name}/connect` with the endpoint's address and aliases. */
  connect(container: string, endpoint: NetworkEndpoint): Promise<void>;
}

/** Loads an nft script into the network namespace of a process. */
export type RulesetLoader = (pid: number, script: string) => Promise<void>;
