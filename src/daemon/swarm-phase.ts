/**
 * The phases of a node's swarm membership (swarm-node.ts) and what each one shows: the `Swarm`
 * header, `/info`'s Swarm section, and why the control API is not there.
 */
import type { SwarmInfo } from "../api/index.ts";
import { LostQuorumError, unavailable } from "../base/index.ts";
import { toHttpError } from "../engineapi/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";
import { clusterInfo, zeroSwarmSpec } from "../manager/controlapi/index.ts";
import { lockedSwarmInfo, swarmLocked } from "./autolock.ts";
import type { NodeState } from "./node-state.ts";
import { failedSwarmInfo, type ResumeRetry } from "./resume.ts";
import type { NodeRuntime } from "./runtime.ts";
import { MANAGER_PREPARING, NOT_A_MANAGER, WORKER_NOT_MANAGER } from "./swarm-texts.ts";

export type Active = { kind: "active"; state: NodeState; runtime: NodeRuntime; control?: ControlApi };
/** A manager of an autolocked swarm, restarted: nothing runs until `swarm unlock`. */
export type Locked = { kind: "locked"; state: NodeState };
/** A saved membership that could not resume (resume.ts): retried in the background. */
export type Failed = { kind: "error"; state: NodeState; retry: ResumeRetry };
export type Phase = { kind: "inactive" } | { kind: "pending" } | Locked | Failed | Active;

export function swarmHeader(phase: Phase): string {
  if (phase.kind !== "active") return phase.kind;
  return phase.state.role === "manager" ? "active/manager" : "active/worker";
}

export function swarmInfo(phase: Phase): SwarmInfo {
  if (phase.kind === "locked") return lockedSwarmInfo(phase.state);
  if (phase.kind === "error") return failedSwarmInfo(phase.state, phase.retry.message);
  if (phase.kind !== "active") {
    return {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: phase.kind === "pending" ? "pending" : "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    };
  }
  return activeSwarmInfo(phase);
}

/** A worker knows its managers' addresses; a manager reads the cluster and nodes from its store. */
function activeSwarmInfo({ state, runtime }: Active): SwarmInfo {
  const base = {
    NodeID: state.nodeId,
    NodeAddr: state.advertiseAddr,
    LocalNodeState: "active" as const,
    ControlAvailable: state.role === "manager",
    Error: "",
  };
  if (!runtime.store) {
    return { ...base, RemoteManagers: (state.managers ?? []).map((Addr) => ({ NodeID: "", Addr })) };
  }
  try {
    runtime.store.assertQuorum?.();
  } catch (err) {
    if (!(err instanceof LostQuorumError)) throw err;
    return lostQuorumSwarmInfo(state, err);
  }
  const { cluster, nodes } = runtime.store.view((tx) => ({
    cluster: tx.list("clusters")[0],
    nodes: tx.list("nodes"),
  }));
  const managers = nodes.filter((n) => n.Spec?.Role === "manager");
  return {
    ...base,
    RemoteManagers: managers.map((n) => ({ NodeID: n.ID, Addr: n.ManagerStatus?.Addr ?? "" })),
    Nodes: nodes.length,
    Managers: managers.length,
    ...(cluster ? { Cluster: clusterInfo(cluster) } : {}),
  };
}

/**
 * moby's Info on a manager whose control calls fail: the error as the API shows it, an empty
 * cluster section, no node counts; the managers it knows of stay listed.
 */
function lostQuorumSwarmInfo(state: NodeState, err: LostQuorumError): SwarmInfo {
  return {
    NodeID: state.nodeId,
    NodeAddr: state.advertiseAddr,
    LocalNodeState: "active",
    ControlAvailable: true,
    Error: toHttpError(err).message,
    RemoteManagers: (state.managers ?? []).map((Addr) => ({ NodeID: "", Addr })),
    Nodes: 0,
    Managers: 0,
    Cluster: EMPTY_CLUSTER_INFO,
  };
}

/** Go's zero ClusterInfo, as moby's Info shows it when ListClusters failed. */
const EMPTY_CLUSTER_INFO = {
  ID: "",
  Version: { Index: 0 },
  CreatedAt: "0001-01-01T00:00:00Z",
  UpdatedAt: "0001-01-01T00:00:00Z",
  Spec: zeroSwarmSpec(),
  TLSInfo: {},
  RootRotationInProgress: false,
  DataPathPort: 0,
  SubnetSize: 0,
};

/** The control API of an active manager; otherwise throws moby's reason for the phase. */
export function controlOf(phase: Phase): ControlApi {
  if (phase.kind === "pending" || phase.kind === "error") throw unavailable(MANAGER_PREPARING);
  if (phase.kind === "locked") throw swarmLocked();
  if (phase.kind !== "active") throw unavailable(NOT_A_MANAGER);
  if (!phase.control) throw unavailable(WORKER_NOT_MANAGER);
  return phase.control;
}
