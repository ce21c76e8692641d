/**
 * The control API: validated, defaulted reads and writes of cluster objects, as the Engine API
 * routes need them. Implementations run on every manager and write through the store; errors are
 * ShoalErrors with Swarm's messages.
 */

import type {
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
import type { StackObject } from "../../store/types.ts";
import type { Filters } from "./filters.ts";
import type { NetworkCreateRequest } from "./network-spec.ts";
import type { StackRevisionRequest, StackSummary } from "./stacks.ts";

export type { Filters } from "./filters.ts";

export interface SwarmUpdateFlags {
  /** The `version` query parameter: the cluster version the caller read. */
  version: number;
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
  rotateManagerUnlockKey: boolean;
}

export interface ControlApi {
  /** `GET /swarm`: the cluster object with its join tokens. */
  inspectSwarm(): Swarm;
  /** `POST /swarm/update`. */
  updateSwarm(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void>;
  /** `GET /swarm/unlockkey`: "" when autolock is off. */
  unlockKey(): string;

  // Services, tasks and nodes. Every `idOrName` accepts a full ID, an exact name (nodes: the
  // hostname) or a unique ID prefix: 404 "<kind> X not found", 400 "<kind> X is ambiguous (N
  // matches found)". Returned objects are the Engine API's shapes (no stored-only fields).

  /** `POST /services/create`. `registryAuth` is the X-Registry-Auth header, stored but never shown. */
  createService(spec: ServiceSpec, registryAuth?: string): Promise<ServiceCreateResult>;
  /** `GET /services/{id}`. */
  getService(idOrName: string, opts?: ServiceReadOptions): Service;
  /** `GET /services`: filters id, name (prefixes), label, mode, runtime. */
  listServices(filters?: Filters, opts?: ServiceListOptions): Service[];
  /** `POST /services/{id}/update`: the spec replaces the stored one; stale version → SequenceConflict. */
  updateService(
    idOrName: string,
    version: number,
    spec: ServiceSpec,
    opts?: ServiceUpdateOptions,
  ): Promise<ServiceUpdateResult>;
  /** `DELETE /services/{id}`: its tasks get DesiredState "remove". */
  removeService(idOrName: string): Promise<void>;
  /** `GET /tasks`: filters id, name, label (service labels), service, node, desired-state, _up-to-date, runtime. */
  listTasks(filters?: Filters): Task[];
  /** `GET /tasks/{id}`. */
  getTask(idOrName: string): Task;
  /** `GET /nodes`: filters id, name, label (engine labels), node.label, role, membership. */
  listNodes(filters?: Filters): Node[];
  /** `GET /nodes/{id}`. */
  getNode(idOrName: string): Node;
  /** `POST /nodes/{id}/update`. */
  updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void>;
  /** `DELETE /nodes/{id}`. */
  removeNode(idOrName: string, force: boolean): Promise<void>;

  // Secrets and configs (payloads.ts). Only Labels can change; removal is refused while a service
  // references the object. A secret's Data is never returned; a config's is.

  /** `POST /secrets/create`. */
  createSecret(spec: SecretSpec): Promise<{ ID: string }>;
  /** `GET /secrets/{id}` (no Data). */
  getSecret(idOrName: string): Secret;
  /** `GET /secrets`: filters names (exact), name and id (prefixes), label. */
  listSecrets(filters?: Filters): Secret[];
  /** `POST /secrets/{id}/update`: labels only; an identical Data is accepted. */
  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void>;
  /** `DELETE /secrets/{id}`. */
  removeSecret(idOrName: string): Promise<void>;
  /** `POST /configs/create`. */
  createConfig(spec: ConfigSpec): Promise<{ ID: string }>;
  /** `GET /configs/{id}` (with Data). */
  getConfig(idOrName: string): Config;
  /** `GET /configs`: filters name and id (prefixes), label. */
  listConfigs(filters?: Filters): Config[];
  /** `POST /configs/{id}/update`: labels only. */
  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void>;
  /** `DELETE /configs/{id}`. */
  removeConfig(idOrName: string): Promise<void>;

  // Swarm-scope networks (networks.ts). Local networks stay with dockerd: the Engine API route
  // asks `hasNetwork` first and forwards what the swarm does not know.

  /** `POST /networks/create` with driver overlay or scope swarm: 201 `{"Id"}`. */
  createNetwork(req: NetworkCreateRequest): Promise<{ ID: string }>;
  /** `GET /networks/{id}` for a swarm network. */
  getNetwork(idOrName: string): Network;
  /** True when `idOrName` names a swarm network. */
  hasNetwork(idOrName: string): boolean;
  /** The swarm networks of `GET /networks`: filters driver, id, label, name, scope, type. */
  listNetworks(filters?: Filters): Network[];
  /** `DELETE /networks/{id}`. */
  removeNetwork(idOrName: string): Promise<void>;

  // Stacks with history (stacks.ts; shoal extension under /shoal/v1/stacks).

  listStacks(): StackSummary[];
  /** The stack with every kept revision; NotFound when never deployed. */
  getStack(name: string): StackObject;
  /** Appends a revision (creating the stack on its first deploy). */
  recordStackRevision(name: string, req: StackRevisionRequest): Promise<{ Index: number }>;
  removeStack(name: string): Promise<void>;
}

export interface ServiceCreateResult {
  ID: string;
  Warnings?: string[];
}

export interface ServiceUpdateResult {
  Warnings: string[] | null;
}

export interface ServiceReadOptions {
  /** Fill in SwarmKit's defaults for everything the stored spec leaves out. */
  insertDefaults?: boolean;
}

export interface ServiceListOptions {
  /** Attach ServiceStatus (running, desired and completed task counts). */
  status?: boolean;
}

export interface ServiceUpdateOptions {
  /** `rollback` query: "previous" swaps PreviousSpec back in; "" or "none" is a normal update. */
  rollback?: string;
  /** `registryAuthFrom` query: whose stored credentials to keep when no header came ("spec" default). */
  registryAuthFrom?: string;
  /** The X-Registry-Auth header, when one came. */
  registryAuth?: string;
}
