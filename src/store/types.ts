/**
 * The store contract. Both backends (memory, etcd) implement it and one conformance suite
 * (conformance.ts) proves it for each.
 *
 * Model: every object lives in a table under its ID. Reads are synchronous over an in-memory view
 * (for etcd: a cache fed by a watch, the informer pattern). Writes run a synchronous function against
 * a transaction and commit atomically; an object's `Version.Index` is the store revision of its last
 * write (the etcd mod revision), so a write that names an older version fails with
 * SequenceConflictError ("update out of sequence"). No `await` inside a transaction function: it may
 * be run again when the backend's view was behind.
 */
import type { Cluster, Config, Node, Secret, Service, SwarmNetworkObject, Task } from "../api/index.ts";

/** Every stored object has an ID and a version the store maintains. */
export interface StoredObject {
  ID: string;
  Version?: { Index?: number };
}

/** A swarm-scope network as the manager stores it: SwarmKit's Network (api/network.ts). */
export type SwarmNetwork = SwarmNetworkObject & StoredObject;

/** A stack and its deploy history (shoal extension). */
export interface StackObject extends StoredObject {
  Spec: { Name: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Tables {
  clusters: Cluster;
  nodes: Node;
  services: Service;
  tasks: Task;
  networks: SwarmNetwork;
  secrets: Secret & StoredObject;
  configs: Config & StoredObject;
  stacks: StackObject;
}
export type TableName = keyof Tables;
export const TABLE_NAMES: readonly TableName[] = [
  "clusters",
  "nodes",
  "services",
  "tasks",
  "networks",
  "secrets",
  "configs",
  "stacks",
];

/**
 * Secondary indexes: `lookup(table, index, value)` returns the objects whose key function gives
 * `value`. Kept in one place so both backends index the same way.
 */
export const INDEXES = {
  tasks: {
    service: (t: Task) => t.ServiceID,
    node: (t: Task) => t.NodeID,
  },
  services: { name: (s: Service) => s.Spec?.Name },
  networks: { name: (n: SwarmNetwork) => n.Spec.Name },
  secrets: { name: (s: Secret) => s.Spec?.Name },
  configs: { name: (c: Config) => c.Spec?.Name },
  stacks: { name: (s: StackObject) => s.Spec.Name },
} as const;
export type IndexedTable = keyof typeof INDEXES;
export type IndexName<T extends IndexedTable> = keyof (typeof INDEXES)[T] & string;

export interface ReadTx {
  get<T extends TableName>(table: T, id: string): Tables[T] | undefined;
  list<T extends TableName>(table: T): Tables[T][];
  lookup<T extends IndexedTable>(table: T, index: IndexName<T>, value: string): Tables[T][];
}

export interface WriteTx extends ReadTx {
  /** Adds a new object; AlreadyExists if the ID is taken. The store sets Version. */
  create<T extends TableName>(table: T, obj: Tables[T]): void;
  /**
   * Replaces an object; SequenceConflictError unless obj.Version.Index equals the stored one;
   * NotFound if absent. The store sets the new Version.
   */
  update<T extends TableName>(table: T, obj: Tables[T]): void;
  /** Removes an object; NotFound if absent. */
  delete<T extends TableName>(table: T, id: string): void;
}

export type StoreEventKind = "create" | "update" | "delete";

export interface StoreEvent<T extends TableName = TableName> {
  kind: StoreEventKind;
  table: T;
  /** The object after the change (for delete: as it was before it). */
  object: Tables[T];
  /** The object before the change, for update and delete. */
  previous?: Tables[T];
  /** The store revision of the commit that made this change. */
  revision: number;
}

export interface WatchOptions {
  /** Only these tables; default all. */
  tables?: readonly TableName[];
  /**
   * Deliver changes committed after this revision (replaying history if needed). Default: from now.
   * If the history is no longer available the watch throws ShoalError(FailedPrecondition,
   * "revision compacted").
   */
  afterRevision?: number;
  signal?: AbortSignal;
}

export interface Store {
  /** The latest revision this store instance has seen committed. */
  revision(): number;
  /** Synchronous read over a consistent view. */
  view<R>(fn: (tx: ReadTx) => R): R;
  /**
   * Runs fn in a transaction and commits its writes atomically. fn may run more than once if the
   * backend's view was stale; errors thrown by fn abort the transaction and are passed through.
   */
  update<R>(fn: (tx: WriteTx) => R): Promise<R>;
  /**
   * Many independent writes, committed in as few transactions as the backend allows (each
   * callback is one unit: all or nothing). Returns each unit's error or undefined.
   */
  batch(units: ReadonlyArray<(tx: WriteTx) => void>): Promise<Array<Error | undefined>>;
  /** Changes as they commit, in revision order. Ends when the signal aborts or the store closes. */
  watch(opts?: WatchOptions): AsyncIterable<StoreEvent>;
  /** A view and a watch taken together: the watch starts right after the viewed revision. */
  viewAndWatch<R>(
    fn: (tx: ReadTx) => R,
    opts?: Omit<WatchOptions, "afterRevision">,
  ): {
    result: R;
    revision: number;
    events: AsyncIterable<StoreEvent>;
  };
  /**
   * Throws the lost-quorum error (base) when this replica has had no cluster leader for a while,
   * as SwarmKit refuses every control call then. Backends without replication have none.
   */
  assertQuorum?(): void;
  close(): Promise<void>;
}
