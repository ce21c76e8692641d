/**
 * store: the cluster state as typed tables with transactions, batches and watches, over etcd (the
 * real backend) or memory (tests, simulations); value encryption; leader election.
 */

export type {
  /** What a candidate is told: elected (with a signal that aborts on loss), leader changes. */
  ElectionCallbacks,
  /** Leader election for the manager. */
  LeaderElection,
} from "./election.ts";
export {
  /** The shared arena of in-process candidates (what etcd is for the real election). */
  MemoryElectionArena,
  /** A candidate in a MemoryElectionArena. */
  MemoryLeaderElection,
} from "./election.ts";
export type {
  /** Settings of the etcd election; build with `defaultEtcdElectionConfig`. */
  EtcdElectionConfig,
} from "./election-etcd.ts";
export {
  defaultEtcdElectionConfig,
  /** Lease-based election over etcd (TTL default 5 s). */
  EtcdLeaderElection,
  /** The IDs of the candidates in an election now. */
  electionCandidates,
} from "./election-etcd.ts";
export type {
  /** Where the cluster's data key is kept (the autolock seam). */
  DataKeyStore,
} from "./encryption.ts";
export {
  /** The data key's length in bytes (32: AES-256). */
  DATA_KEY_BYTES,
  /** AES-256-GCM seal/open of values with the data key. */
  DataCipher,
  /** Keeps the data key in `<dir>/data.key`, mode 0600. */
  FileDataKeyStore,
  /** Loads the data key, creating a random one the first time. */
  loadOrCreateDataKey,
  /** The data key from its sealed form, or undefined when the KEK does not open it. */
  openDataKey,
  /** The data key sealed by autolock's key-encryption key. */
  sealDataKey,
} from "./encryption.ts";
export type {
  /** Settings of the etcd backend; build with `defaultEtcdStoreConfig`. */
  EtcdStoreConfig,
  /** What `EtcdStore.health()` reports. */
  EtcdStoreHealth,
} from "./etcd.ts";
export {
  defaultEtcdStoreConfig,
  /** The etcd backend: `await EtcdStore.open(config, log, clock)`. */
  EtcdStore,
} from "./etcd.ts";
export type {
  /** Settings of the memory backend. */
  MemoryStoreConfig,
} from "./memory.ts";
export {
  defaultMemoryStoreConfig,
  /** The in-process backend for tests and simulations. */
  MemoryStore,
} from "./memory.ts";
export type {
  IndexedTable,
  IndexName,
  /** A read-only view: get, list and index lookups; objects returned are copies. */
  ReadTx,
  /** A stack and its deploy history (shoal extension). */
  StackObject,
  /** The store contract both backends implement (see types.ts for the model). */
  Store,
  /** Every stored object: an ID and the Version the store maintains. */
  StoredObject,
  /** A committed change: kind, table, object (and previous), revision. */
  StoreEvent,
  StoreEventKind,
  /** A swarm-scope network as stored. */
  SwarmNetwork,
  TableName,
  /** The tables and the type of object each holds. */
  Tables,
  WatchOptions,
  /** A transaction: reads plus create/update/delete with version checks. */
  WriteTx,
} from "./types.ts";
export {
  /** Secondary index key functions, per table. */
  INDEXES,
  /** Every table name. */
  TABLE_NAMES,
} from "./types.ts";
