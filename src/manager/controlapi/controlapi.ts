/**
 * The control API as one object over the store: the Engine API routes call it on any manager. Each
 * resource group lives in its own file as plain functions over ControlDeps; this class only binds
 * them.
 */
import type {
  Cluster,
  Config,
  ConfigSpec,
  Network,
  Node,
  NodeSpec,
  Secret,
  SecretSpec,
  Service,
  ServiceSpec,
  Swarm,
  SwarmSpec,
  Task,
} from "../../api/index.ts";
import type { Clock, Ids, Logger } from "../../base/index.ts";
import { SequenceConflictError, timestamp, unavailable } from "../../base/index.ts";
import { generateJoinToken, withRootCAState } from "../../ca/index.ts";
import type { StackObject, Store } from "../../store/types.ts";
import { nextUnlockKey, withUnlockKey } from "./autolock.ts";
import { plannedRootCA, storedSpec } from "./ca-rotation.ts";
import type { NetworkCreateRequest } from "./network-spec.ts";
import {
  createNetwork,
  type EspProbe,
  getNetwork,
  hasNetwork,
  listNetworks,
  removeNetwork,
} from "./networks.ts";
import { getNode, listNodes, removeNode, updateNode } from "./nodes.ts";
import { createPayload, getPayload, listPayloads, removePayload, updatePayload } from "./payloads.ts";
import { updateService } from "./service-update.ts";
import { createService, getService, listServices, removeService } from "./services.ts";
import {
  getStack,
  listStacks,
  recordStackRevision,
  removeStack,
  type StackRevisionRequest,
  type StackSummary,
} from "./stacks.ts";
import { mergeSwarmSpec, publicSwarm, validateSwarmSpec } from "./swarm.ts";
import { getTask, listTasks } from "./tasks.ts";
import type {
  ControlApi,
  Filters,
  ServiceCreateResult,
  ServiceListOptions,
  ServiceReadOptions,
  ServiceUpdateOptions,
  ServiceUpdateResult,
  SwarmUpdateFlags,
} from "./types.ts";

export interface ControlDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** Whether the kernel has IPsec ESP (encrypted overlays); absent: treated as missing. */
  espSupported?: EspProbe;
}

/** The one cluster object, or Unavailable while the store has none (a manager still starting). */
export function currentCluster(store: Store): Cluster {
  const cluster = store.view((tx) => tx.list("clusters")[0]);
  if (!cluster) {
    throw unavailable(
      "This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.",
    );
  }
  return cluster;
}

export class ControlApiImpl implements ControlApi {
  constructor(private readonly deps: ControlDeps) {}

  inspectSwarm(): Swarm {
    return publicSwarm(currentCluster(this.deps.store));
  }

  async updateSwarm(requested: SwarmSpec, flags: SwarmUpdateFlags): Promise<void> {
    const spec = mergeSwarmSpec(requested);
    validateSwarmSpec(spec);
    const { store, clock, ids } = this.deps;
    const read = currentCluster(store);
    const rootCA = await plannedRootCA(read, spec, clock, ids);
    await store.update((tx) => {
      const current = tx.list("clusters")[0];
      if (!current) throw unavailable("cluster object missing");
      // The root CA was planned from `read`; anything newer makes this update out of sequence.
      if (rootCA && current.Version?.Index !== read.Version?.Index) throw new SequenceConflictError();
      const cluster = rootCA ? withRootCAState(current, rootCA, ids) : current;
      const trustRoot = cluster.TLSInfo?.TrustRoot ?? "";
      const tokens = { ...cluster.JoinTokens };
      if (flags.rotateWorkerToken) tokens.Worker = generateJoinToken(trustRoot, ids);
      if (flags.rotateManagerToken) tokens.Manager = generateJoinToken(trustRoot, ids);
      tx.update("clusters", {
        ...cluster,
        Version: { Index: flags.version },
        Spec: storedSpec(spec),
        JoinTokens: tokens,
        Shoal: withUnlockKey(
          cluster,
          nextUnlockKey(cluster.Shoal?.UnlockKey, spec, flags.rotateManagerUnlockKey, ids),
        ),
        UpdatedAt: timestamp(clock),
      });
    });
  }

  unlockKey(): string {
    return currentCluster(this.deps.store).Shoal?.UnlockKey ?? "";
  }

  // Services, tasks and nodes: services.ts, service-update.ts, tasks.ts, nodes.ts.

  createService(spec: ServiceSpec, registryAuth?: string): Promise<ServiceCreateResult> {
    return createService(this.deps, spec, registryAuth);
  }

  getService(idOrName: string, opts?: ServiceReadOptions): Service {
    return getService(this.deps, idOrName, opts);
  }

  listServices(filters?: Filters, opts?: ServiceListOptions): Service[] {
    return listServices(this.deps, filters, opts);
  }

  updateService(
    idOrName: string,
    version: number,
    spec: ServiceSpec,
    opts?: ServiceUpdateOptions,
  ): Promise<ServiceUpdateResult> {
    return updateService(this.deps, idOrName, version, spec, opts);
  }

  removeService(idOrName: string): Promise<void> {
    return removeService(this.deps, idOrName);
  }

  listTasks(filters?: Filters): Task[] {
    return listTasks(this.deps, filters);
  }

  getTask(idOrName: string): Task {
    return getTask(this.deps, idOrName);
  }

  listNodes(filters?: Filters): Node[] {
    return listNodes(this.deps, filters);
  }

  getNode(idOrName: string): Node {
    return getNode(this.deps, idOrName);
  }

  updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void> {
    return updateNode(this.deps, idOrName, version, spec);
  }

  removeNode(idOrName: string, force: boolean): Promise<void> {
    return removeNode(this.deps, idOrName, force);
  }

  // Secrets and configs: payloads.ts.

  createSecret(spec: SecretSpec): Promise<{ ID: string }> {
    return createPayload(this.deps, "secret", spec);
  }

  getSecret(idOrName: string): Secret {
    return getPayload(this.deps, "secret", idOrName);
  }

  listSecrets(filters?: Filters): Secret[] {
    return listPayloads(this.deps, "secret", filters);
  }

  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void> {
    return updatePayload(this.deps, "secret", idOrName, version, spec);
  }

  removeSecret(idOrName: string): Promise<void> {
    return removePayload(this.deps, "secret", idOrName);
  }

  createConfig(spec: ConfigSpec): Promise<{ ID: string }> {
    return createPayload(this.deps, "config", spec);
  }

  getConfig(idOrName: string): Config {
    return getPayload(this.deps, "config", idOrName);
  }

  listConfigs(filters?: Filters): Config[] {
    return listPayloads(this.deps, "config", filters);
  }

  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void> {
    return updatePayload(this.deps, "config", idOrName, version, spec);
  }

  removeConfig(idOrName: string): Promise<void> {
    return removePayload(this.deps, "config", idOrName);
  }

  // Swarm-scope networks: networks.ts.

  createNetwork(req: NetworkCreateRequest): Promise<{ ID: string }> {
    return createNetwork(this.deps, req);
  }

  getNetwork(idOrName: string): Network {
    return getNetwork(this.deps, idOrName);
  }

  hasNetwork(idOrName: string): boolean {
    return hasNetwork(this.deps, idOrName);
  }

  listNetworks(filters?: Filters): Network[] {
    return listNetworks(this.deps, filters);
  }

  removeNetwork(idOrName: string): Promise<void> {
    return removeNetwork(this.deps, idOrName);
  }

  // Stacks: stacks.ts.

  listStacks(): StackSummary[] {
    return listStacks(this.deps);
  }

  getStack(name: string): StackObject {
    return getStack(this.deps, name);
  }

  recordStackRevision(name: string, req: StackRevisionRequest): Promise<{ Index: number }> {
    return recordStackRevision(this.deps, name, req);
  }

  removeStack(name: string): Promise<void> {
    return removeStack(this.deps, name);
  }
}
