/**
 * dockerd's network endpoints for the data plane (agent/network): shoal's local bridge networks
 * (one per swarm network a task here uses, with the cluster's subnet and gateway, MTU 1450) and
 * connecting a container to a further network before it starts. Errors become ShoalErrors as in
 * docker.ts.
 */
import Dockerode from "dockerode";
import {
  LABEL_SHOAL_NETWORK,
  LABEL_SHOAL_NETWORK_ID,
  LABEL_SHOAL_NODE_ID,
  LABEL_SHOAL_VNI,
  type LocalNetwork,
  OVERLAY_MTU,
} from "../network/plan.ts";
import type { ExistingNetwork, LocalNetworkDriver } from "../network/types.ts";
import { engineError } from "./docker.ts";
import { num, rec } from "./narrow.ts";
import type { NetworkEndpoint } from "./spec.ts";

export class DockerNetworks implements LocalNetworkDriver {
  private readonly docker: Dockerode;

  private readonly nodeId: string;

  /** `nodeId` scopes the networks: several shoal nodes may share one dockerd (tests). */
  constructor(opts: { socketPath?: string; nodeId: string }) {
    this.docker = new Dockerode({ socketPath: opts.socketPath ?? "/var/run/docker.sock" });
    this.nodeId = opts.nodeId;
  }

  async list(): Promise<ExistingNetwork[]> {
    try {
      const nets = await this.docker.listNetworks({
        filters: { label: [`${LABEL_SHOAL_NODE_ID}=${this.nodeId}`] },
      });
      return nets.map((n) => ({
        name: n.Name,
        networkId: n.Labels?.[LABEL_SHOAL_NETWORK_ID] ?? "",
        vni: Number(n.Labels?.[LABEL_SHOAL_VNI] ?? 0) || 0,
      }));
    } catch (err) {
      throw engineError(err);
    }
  }

  async create(n: LocalNetwork): Promise<void> {
    const options: Record<string, string> = {
      "com.docker.network.bridge.name": n.bridge,
      "com.docker.network.driver.mtu": String(OVERLAY_MTU),
    };
    try {
      await this.docker.createNetwork({
        Name: n.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Internal: n.internal,
        Attachable: true,
        IPAM: { Driver: "default", Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
        Options: options,
        Labels: {
          [LABEL_SHOAL_NETWORK]: "",
          [LABEL_SHOAL_NETWORK_ID]: n.id,
          [LABEL_SHOAL_NODE_ID]: this.nodeId,
          [LABEL_SHOAL_VNI]: String(n.vni),
        },
      });
    } catch (err) {
      if (num(rec(err).statusCode) === 409) return;
      throw engineError(err);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (num(rec(err).statusCode) === 404) return;
      throw engineError(err);
    }
  }

  async connect(container: string, endpoint: NetworkEndpoint): Promise<void> {
    const ipv4 = endpoint.addresses?.map((a) => a.split("/")[0] ?? "").find((a) => a && !a.includes(":"));
    try {
      await this.docker.getNetwork(endpoint.name).connect({
        Container: container,
        EndpointConfig: {
          ...(ipv4 ? { IPAMConfig: { IPv4Address: ipv4 } } : {}),
          ...(endpoint.aliases?.length ? { Aliases: [...endpoint.aliases] } : {}),
        },
      });
    } catch (err) {
      throw engineError(err);
    }
  }
}
