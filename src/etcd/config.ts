/** Configuration of the local etcd member that a manager node supervises. */
import { join } from "node:path";
import { type BackoffOptions, invalidArgument } from "../base/index.ts";

export interface EtcdMemberConfig {
  /** The member's name in the etcd cluster (shoal uses the node ID). */
  name: string;
  /** shoal's data directory; etcd keeps its data in `<dataDir>/etcd`. */
  dataDir: string;
  /** The etcd executable. */
  binary: string;
  /** Client port on 127.0.0.1 (clients are local only); 0 picks a free port at start. */
  clientPort: number;
  /** Peer port; 0 picks a free port at start. */
  peerPort: number;
  /** Address the peer listener binds to. */
  peerListenAddress: string;
  /** Address other members reach this one at (advertised peer URL). */
  peerAdvertiseAddress: string;
  /**
   * Mutual TLS between members (peer URLs become https). Without it peers speak plain http, which
   * is only acceptable on loopback (single-member tests).
   */
  peerTls?: EtcdPeerTls;
  /**
   * The `--initial-cluster` value (`name=url,...`) for joining an existing cluster; default: this
   * member alone.
   */
  initialCluster?: string;
  initialClusterState: "new" | "existing";
  /**
   * etcd's `--force-new-cluster` on the first start: the member restarts alone from its data, every
   * other member dropped (`swarm init --force-new-cluster` after the quorum was lost). Cleared once
   * the member is healthy.
   */
  forceNewCluster?: boolean;
  initialClusterToken: string;
  /** Keep this many revisions of history (etcd auto-compaction, revision mode). */
  autoCompactionRetention: number;
  snapshotCount: number;
  quotaBackendBytes: number;
  /** Largest number of operations in one txn (etcd's `--max-txn-ops`). */
  maxTxnOps: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  /** How long start (and each restart) may take to become healthy. */
  healthTimeoutMs: number;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopTimeoutMs: number;
  /** Backoff between restarts after an unexpected exit. */
  restartBackoff: BackoffOptions;
  /**
   * Kill etcd if this process dies (via `setpriv --pdeathsig`, when installed), so that a crashed
   * daemon leaves no member holding the data directory's lock.
   */
  dieWithParent: boolean;
}

/** Files etcd reads for peer TLS; it re-reads them on every handshake, so renewals need no restart. */
export interface EtcdPeerTls {
  certFile: string;
  keyFile: string;
  /** The only trust anchor for peers (shoal's root CA). */
  trustedCAFile: string;
  /**
   * A name every peer certificate must carry (SAN or CN): shoal passes `swarm-manager`, so a
   * worker's certificate from the same CA is refused as a peer.
   */
  allowedHostname?: string;
}

export const defaultEtcdMemberConfig = (name: string, dataDir: string): EtcdMemberConfig => ({
  name,
  dataDir,
  binary: "/usr/bin/etcd",
  clientPort: 2379,
  peerPort: 2380,
  peerListenAddress: "127.0.0.1",
  peerAdvertiseAddress: "127.0.0.1",
  initialClusterState: "new",
  initialClusterToken: "shoal",
  autoCompactionRetention: 1000,
  snapshotCount: 10_000,
  // 4 GiB: headroom above etcd's 2 GiB default; auto-compaction keeps real use far below it.
  quotaBackendBytes: 4 * 1024 ** 3,
  maxTxnOps: 128,
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  healthTimeoutMs: 20_000,
  stopTimeoutMs: 10_000,
  restartBackoff: { initialMs: 200, maxMs: 10_000, factor: 2 },
  dieWithParent: true,
});

/** Names the first bad field. */
export function validateEtcdMemberConfig(c: EtcdMemberConfig): EtcdMemberConfig {
  if (!/^[A-Za-z0-9._-]+$/.test(c.name))
    throw invalidArgument(`etcd member name ${JSON.stringify(c.name)} is invalid`);
  if (!c.dataDir) throw invalidArgument("etcd dataDir is required");
  for (const f of ["clientPort", "peerPort"] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 0 || c[f] > 65535)
      throw invalidArgument(`etcd ${f} ${c[f]} is invalid`);
  }
  for (const f of ["autoCompactionRetention", "snapshotCount", "quotaBackendBytes", "maxTxnOps"] as const) {
    if (!(c[f] > 0)) throw invalidArgument(`etcd ${f} must be positive`);
  }
  if (c.electionTimeoutMs < 5 * c.heartbeatIntervalMs) {
    throw invalidArgument("etcd electionTimeoutMs must be at least 5 × heartbeatIntervalMs");
  }
  return c;
}

/** Where etcd keeps its data for a given shoal data directory. */
export const etcdDataDir = (c: Pick<EtcdMemberConfig, "dataDir">): string => join(c.dataDir, "etcd");

/** An IPv6 literal goes in brackets inside a URL. */
const urlHost = (addr: string): string => (addr.includes(":") ? `[${addr}]` : addr);

/** A member's peer URL: https when peers speak TLS. */
export function peerUrl(addr: string, port: number, tls: boolean): string {
  return `${tls ? "https" : "http"}://${urlHost(addr)}:${port}`;
}

/** The URL other members reach this one at. */
export function peerUrlOf(
  c: Pick<EtcdMemberConfig, "peerAdvertiseAddress" | "peerPort" | "peerTls">,
): string {
  return peerUrl(c.peerAdvertiseAddress, c.peerPort, c.peerTls !== undefined);
}

function peerTlsArgs(tls: EtcdPeerTls | undefined): string[] {
  if (!tls) return [];
  return [
    `--peer-cert-file=${tls.certFile}`,
    `--peer-key-file=${tls.keyFile}`,
    `--peer-trusted-ca-file=${tls.trustedCAFile}`,
    "--peer-client-cert-auth",
    ...(tls.allowedHostname ? [`--peer-cert-allowed-hostname=${tls.allowedHostname}`] : []),
  ];
}

/** The etcd command line for a config whose ports are resolved. */
export function etcdArgs(c: EtcdMemberConfig): string[] {
  const clientUrl = `http://127.0.0.1:${c.clientPort}`;
  const peerUrl = peerUrlOf(c);
  const scheme = c.peerTls ? "https" : "http";
  return [
    `--name=${c.name}`,
    `--data-dir=${etcdDataDir(c)}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${scheme}://${urlHost(c.peerListenAddress)}:${c.peerPort}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${c.initialCluster ?? `${c.name}=${peerUrl}`}`,
    `--initial-cluster-state=${c.initialClusterState}`,
    `--initial-cluster-token=${c.initialClusterToken}`,
    "--auto-compaction-mode=revision",
    `--auto-compaction-retention=${c.autoCompactionRetention}`,
    `--snapshot-count=${c.snapshotCount}`,
    `--quota-backend-bytes=${c.quotaBackendBytes}`,
    `--max-txn-ops=${c.maxTxnOps}`,
    `--heartbeat-interval=${c.heartbeatIntervalMs}`,
    `--election-timeout=${c.electionTimeoutMs}`,
    // A member cut off from the others (partition, frozen machine) keeps campaigning; without
    // pre-vote each attempt raises its term, and when it comes back that term deposes the healthy
    // leader: one more election for everyone (etcd 3.5 turns it on by default).
    "--pre-vote",
    "--logger=zap",
    "--log-outputs=stderr",
    ...peerTlsArgs(c.peerTls),
    ...(c.forceNewCluster ? ["--force-new-cluster"] : []),
  ];
}
