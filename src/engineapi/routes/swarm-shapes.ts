/** The JSON shapes of the `/swarm` request bodies, as Go's types in moby's api/types/swarm. */
import { type Shape, shape } from "../http/body.ts";

const { string, bool, int, uint, map, array, struct } = shape;

export const SWARM_SPEC: Shape = struct("swarm.Spec", {
  Name: string,
  Labels: map(string),
  Orchestration: struct("swarm.OrchestrationConfig", { TaskHistoryRetentionLimit: int("int64") }),
  Raft: struct("swarm.RaftConfig", {
    SnapshotInterval: uint(),
    KeepOldSnapshots: uint(),
    LogEntriesForSlowFollowers: uint(),
    ElectionTick: int(),
    HeartbeatTick: int(),
  }),
  Dispatcher: struct("swarm.DispatcherConfig", { HeartbeatPeriod: int("time.Duration") }),
  CAConfig: struct("swarm.CAConfig", {
    NodeCertExpiry: int("time.Duration"),
    ExternalCAs: array(
      struct("swarm.ExternalCA", { Protocol: string, URL: string, Options: map(string), CACert: string }),
      "[]*swarm.ExternalCA",
    ),
    SigningCACert: string,
    SigningCAKey: string,
    ForceRotate: uint(),
  }),
  TaskDefaults: struct("swarm.TaskDefaults", {
    LogDriver: struct("swarm.Driver", { Name: string, Options: map(string) }),
  }),
  EncryptionConfig: struct("swarm.EncryptionConfig", { AutoLockManagers: bool }),
});

export const INIT_REQUEST = struct("swarm.InitRequest", {
  ListenAddr: string,
  AdvertiseAddr: string,
  DataPathAddr: string,
  DataPathPort: uint("uint32"),
  DefaultAddrPool: array(string),
  SubnetSize: uint("uint32"),
  ForceNewCluster: bool,
  Spec: SWARM_SPEC,
  AutoLockManagers: bool,
  Availability: string,
}) as Shape & { kind: "struct" };

export const JOIN_REQUEST = struct("swarm.JoinRequest", {
  ListenAddr: string,
  AdvertiseAddr: string,
  DataPathAddr: string,
  RemoteAddrs: array(string),
  JoinToken: string,
  Availability: string,
}) as Shape & { kind: "struct" };

export const UNLOCK_REQUEST = struct("swarm.UnlockRequest", { UnlockKey: string }) as Shape & {
  kind: "struct";
};

export const SWARM_SPEC_REQUEST = SWARM_SPEC as Shape & { kind: "struct" };
