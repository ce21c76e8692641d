/**
 * The cluster object: Swarm's defaults, validation and the pure steps of `swarm init` and
 * `swarm update`. Messages are SwarmKit's, wrapped as moby passes gRPC errors through.
 */
import type { Cluster, Swarm, SwarmSpec } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";

export const DEFAULT_CLUSTER_NAME = "default";
const HOUR_NS = 3_600_000_000_000;
/** MinNodeCertExpiration in SwarmKit: 1h. */
const MIN_NODE_CERT_EXPIRY_NS = HOUR_NS;

export function defaultSwarmSpec(): SwarmSpec {
  return {
    Name: DEFAULT_CLUSTER_NAME,
    Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: 5 },
    Raft: {
      SnapshotInterval: 10000,
      KeepOldSnapshots: 0,
      LogEntriesForSlowFollowers: 500,
      ElectionTick: 10,
      HeartbeatTick: 1,
    },
    Dispatcher: { HeartbeatPeriod: 5_000_000_000 },
    CAConfig: { NodeCertExpiry: 2160 * HOUR_NS },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: false },
  };
}

/**
 * Go's zero SwarmSpec as moby's JSON shows it: what the CLI sends for a bare `swarm init`, and the
 * Spec of the empty cluster section of `/info` when the cluster cannot be read.
 */
export function zeroSwarmSpec(): SwarmSpec {
  return {
    Orchestration: {},
    Raft: { ElectionTick: 0, HeartbeatTick: 0 },
    Dispatcher: {},
    CAConfig: {},
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: false },
  };
}

/** Message text as the docker CLI prints a SwarmKit error that moby passed through. */
export const rpcText = (code: string, desc: string): string => `rpc error: code = ${code} desc = ${desc}`;

const positive = (v: unknown): v is number => typeof v === "number" && v > 0;

/**
 * Fills a requested spec onto the defaults as moby does for init and update: a field that is zero
 * or absent takes the default; TaskHistoryRetentionLimit and KeepOldSnapshots count when present.
 */
export function mergeSwarmSpec(requested: SwarmSpec | undefined, base = defaultSwarmSpec()): SwarmSpec {
  const r = requested ?? {};
  const out = structuredClone(base);
  if (r.Name) out.Name = r.Name;
  if (r.Labels) out.Labels = { ...r.Labels };
  const hist = r.Orchestration?.TaskHistoryRetentionLimit;
  if (typeof hist === "number") out.Orchestration = { TaskHistoryRetentionLimit: hist };
  const raft = r.Raft ?? {};
  for (const key of [
    "SnapshotInterval",
    "LogEntriesForSlowFollowers",
    "ElectionTick",
    "HeartbeatTick",
  ] as const) {
    if (positive(raft[key])) out.Raft = { ...out.Raft, [key]: raft[key] };
  }
  if (typeof raft.KeepOldSnapshots === "number")
    out.Raft = { ...out.Raft, KeepOldSnapshots: raft.KeepOldSnapshots };
  const hb = r.Dispatcher?.HeartbeatPeriod;
  if (typeof hb === "number" && hb !== 0) out.Dispatcher = { HeartbeatPeriod: hb };
  const ca = r.CAConfig ?? {};
  out.CAConfig = { ...out.CAConfig, ...ca };
  if (!ca.NodeCertExpiry) out.CAConfig.NodeCertExpiry = base.CAConfig?.NodeCertExpiry;
  if (r.TaskDefaults) out.TaskDefaults = structuredClone(r.TaskDefaults);
  if (r.EncryptionConfig) out.EncryptionConfig = { AutoLockManagers: !!r.EncryptionConfig.AutoLockManagers };
  return out;
}

export function validateSwarmSpec(spec: SwarmSpec): void {
  const expiry = spec.CAConfig?.NodeCertExpiry;
  if (typeof expiry === "number" && expiry < MIN_NODE_CERT_EXPIRY_NS) {
    throw invalidArgument(rpcText("InvalidArgument", "minimum certificate expiry time is: 1h0m0s"));
  }
  const hb = spec.Dispatcher?.HeartbeatPeriod;
  if (typeof hb === "number" && hb < 0) {
    throw invalidArgument(rpcText("InvalidArgument", "heartbeat time period cannot be a negative duration"));
  }
  const limit = spec.Orchestration?.TaskHistoryRetentionLimit;
  if (limit !== undefined && !Number.isInteger(limit)) {
    throw invalidArgument("Orchestration.TaskHistoryRetentionLimit must be an integer");
  }
  if (spec.Name !== DEFAULT_CLUSTER_NAME) {
    throw invalidArgument(rpcText("InvalidArgument", "modification of cluster name is not allowed"));
  }
}

/** What `GET /swarm` shows: everything but the manager-private part. */
export function publicSwarm(cluster: Cluster): Swarm {
  const { Shoal: _private, ...rest } = cluster;
  return structuredClone(rest);
}

/** What `/info`'s Swarm.Cluster shows: `GET /swarm` without the join tokens. */
export function clusterInfo(cluster: Cluster): Omit<Swarm, "JoinTokens"> {
  const { JoinTokens: _tokens, ...rest } = publicSwarm(cluster);
  return rest;
}
