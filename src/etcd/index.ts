/** etcd: supervising the local etcd member that stores the cluster state (managers only). */
export type {
  /** Settings of the local etcd member; build with `defaultEtcdMemberConfig`. */
  EtcdMemberConfig,
  /** Peer mutual TLS files (shoal's node certificate and root). */
  EtcdPeerTls,
} from "./config.ts";
export {
  /** Defaults: 127.0.0.1:2379/2380, revision auto-compaction 1000, snapshot count 10,000. */
  defaultEtcdMemberConfig,
  /** The etcd command line for a resolved config. */
  etcdArgs,
  /** `<dataDir>/etcd`: where a shoal data directory keeps etcd's data. */
  etcdDataDir,
  /** A peer URL from address, port and whether peers speak TLS. */
  peerUrl,
  /** The URL other members reach a member at (https with peer TLS). */
  peerUrlOf,
  /** Checks a config, naming the first bad field. */
  validateEtcdMemberConfig,
} from "./config.ts";
export type {
  /** idle → starting → running ⇄ restarting → stopped. */
  EtcdMemberState,
} from "./member.ts";
export {
  /** Starts, health-checks, restarts (with backoff) and stops the local etcd child process. */
  EtcdMember,
  /** A free TCP port on 127.0.0.1 (for tests and `clientPort: 0`). */
  freePort,
} from "./member.ts";
export type {
  /** A member as etcd lists it. */
  EtcdMemberInfo,
} from "./membership.ts";
export {
  /** SwarmKit's quorum rule for removing a member. */
  canRemoveMember,
  /** Member add (with etcd's health retries), remove and list through a running member. */
  EtcdMembership,
  /** The `--initial-cluster` string for a member about to join. */
  initialClusterOf,
} from "./membership.ts";
