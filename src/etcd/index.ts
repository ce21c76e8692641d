/** etcd: supervising the local etcd member that stores the cluster state (managers only). */
export type {
  /** Settings of the local etcd member; build with `defaultEtcdMemberConfig`. */
  EtcdMemberConfig,
} from "./config.ts";
export {
  /** Defaults: 127.0.0.1:2379/2380, revision auto-compaction 1000, snapshot count 10,000. */
  defaultEtcdMemberConfig,
  /** The etcd command line for a resolved config. */
  etcdArgs,
  /** `<dataDir>/etcd`: where a shoal data directory keeps etcd's data. */
  etcdDataDir,
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
