/**
 * This node's membership in a swarm: inactive, or an active manager with its store and control API.
 * It is the NodeBackend the Engine API server talks to for `swarm init/leave` and `/info`.
 */
import type { Cluster, Node, NodeDescription, SwarmInfo, SwarmSpec, Task } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import {
  ErrorCode,
  invalidArgument,
  notImplemented,
  ShoalError,
  timestamp,
  unavailable,
} from "../base/index.ts";
import { createRootCA, generateJoinToken, tlsInfoOf } from "../ca/index.ts";
import type {
  NodeBackend,
  SwarmInitRequest,
  SwarmJoinRequest,
  TaskLogLine,
  TaskLogOptions,
} from "../engineapi/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";
import {
  ControlApiImpl,
  clusterInfo,
  mergeSwarmSpec,
  refuseAutolock,
  validateSwarmSpec,
} from "../manager/controlapi/index.ts";
import type { Store } from "../store/types.ts";
import { resolveAddrs } from "./addr.ts";
import type { NodeState } from "./node-state.ts";
import { loadNodeState, removeSwarmState, saveNodeState } from "./node-state.ts";

/** A running manager: its store (and, later, its leader loops and dispatcher). */
export interface ManagerRuntime {
  readonly store: Store;
  /** Log lines of a task container on this node. */
  localTaskLogs(taskId: string, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<TaskLogLine>;
  /** Stops everything; `leaving` also removes this node's task containers, as `swarm leave` does. */
  stop(opts?: { leaving?: boolean }): Promise<void>;
}

export interface SwarmNodeDeps {
  dataDir: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** Starts the manager side for a node state; `fresh` on swarm init (new store). */
  startManager(state: NodeState, fresh: boolean): Promise<ManagerRuntime>;
  /** The node's description (hostname, platform, resources, engine) as the agent sees it. */
  describeNode(): Promise<NodeDescription>;
}

const NOT_IN_SWARM = "This node is not part of a swarm";
const ALREADY_IN_SWARM =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const MANAGER_PREPARING =
  "This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.";
const LAST_MANAGER =
  "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ";

type Phase =
  | { kind: "inactive" }
  | { kind: "pending" }
  | { kind: "active"; state: NodeState; manager: ManagerRuntime; control: ControlApi };

export class SwarmNode implements NodeBackend {
  private phase: Phase = { kind: "inactive" };

  constructor(private readonly deps: SwarmNodeDeps) {}

  /** Resumes the membership saved in the data dir, if any. */
  async start(): Promise<void> {
    const state = loadNodeState(this.deps.dataDir);
    if (!state) return;
    if (state.role !== "manager") throw notImplemented("worker nodes (swarm join)");
    this.phase = { kind: "pending" };
    try {
      const manager = await this.deps.startManager(state, false);
      this.activate(state, manager);
    } catch (err) {
      this.phase = { kind: "inactive" };
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.phase.kind === "active") await this.phase.manager.stop();
    this.phase = { kind: "inactive" };
  }

  swarmHeader(): string {
    if (this.phase.kind === "pending") return "pending";
    if (this.phase.kind === "inactive") return "inactive";
    return this.phase.state.role === "manager" ? "active/manager" : "active/worker";
  }

  async swarmInfo(): Promise<SwarmInfo> {
    const phase = this.phase;
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
    const { state, manager } = phase;
    const { cluster, nodes } = manager.store.view((tx) => ({
      cluster: tx.list("clusters")[0],
      nodes: tx.list("nodes"),
    }));
    const managers = nodes.filter((n) => n.Spec?.Role === "manager");
    return {
      NodeID: state.nodeId,
      NodeAddr: state.advertiseAddr,
      LocalNodeState: "active",
      ControlAvailable: state.role === "manager",
      Error: "",
      RemoteManagers: managers.map((n) => ({ NodeID: n.ID, Addr: n.ManagerStatus?.Addr ?? "" })),
      Nodes: nodes.length,
      Managers: managers.length,
      ...(cluster ? { Cluster: clusterInfo(cluster) } : {}),
    };
  }

  control(): ControlApi {
    if (this.phase.kind === "pending") throw unavailable(MANAGER_PREPARING);
    if (this.phase.kind !== "active") throw unavailable(NOT_A_MANAGER);
    return this.phase.control;
  }

  async swarmInit(req: SwarmInitRequest): Promise<string> {
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    const spec = mergeSwarmSpec(req.Spec as SwarmSpec | undefined);
    validateSwarmSpec(spec);
    refuseAutolock({ EncryptionConfig: { AutoLockManagers: !!req.AutoLockManagers } });
    refuseAutolock(spec);
    const availability = parseAvailability(req.Availability);
    const dataPathPort = req.DataPathPort || 4789;
    if (dataPathPort < 1024 || dataPathPort > 49151) {
      throw invalidArgument(`data path port must be within 1024-49151 range, got ${dataPathPort}`);
    }
    const addrs = resolveAddrs(req.ListenAddr, req.AdvertiseAddr);
    const { ids, clock } = this.deps;
    const state: NodeState = {
      nodeId: ids.newId(),
      clusterId: ids.newId(),
      role: "manager",
      advertiseAddr: addrs.advertiseAddr,
      listenAddr: `${addrs.listenHost}:${addrs.listenPort}`,
      etcd: { clientPort: 0, peerPort: 0 },
    };
    this.phase = { kind: "pending" };
    try {
      const [rootCA, description] = await Promise.all([createRootCA(clock, ids), this.deps.describeNode()]);
      const now = timestamp(clock);
      const cluster: Cluster = {
        ID: state.clusterId,
        CreatedAt: now,
        UpdatedAt: now,
        Spec: spec,
        TLSInfo: tlsInfoOf(rootCA.certPem),
        RootRotationInProgress: false,
        DefaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool : ["10.0.0.0/8"],
        SubnetSize: req.SubnetSize || 24,
        DataPathPort: dataPathPort,
        JoinTokens: {
          Worker: generateJoinToken(rootCA.certPem, ids),
          Manager: generateJoinToken(rootCA.certPem, ids),
        },
        Shoal: { RootCAKey: rootCA.keyPem },
      };
      const node: Node = {
        ID: state.nodeId,
        CreatedAt: now,
        UpdatedAt: now,
        Spec: { Labels: {}, Role: "manager", Availability: availability },
        Description: { ...description, TLSInfo: tlsInfoOf(rootCA.certPem) },
        Status: { State: "ready", Addr: addrs.advertiseAddr },
        ManagerStatus: {
          Leader: true,
          Reachability: "reachable",
          Addr: `${addrs.advertiseAddr}:${addrs.advertisePort}`,
        },
      };
      const manager = await this.deps.startManager(state, true);
      try {
        await manager.store.update((tx) => {
          tx.create("clusters", cluster);
          tx.create("nodes", node);
        });
        saveNodeState(this.deps.dataDir, state);
      } catch (err) {
        await manager.stop();
        throw err;
      }
      this.activate(state, manager);
      this.deps.logger.info({ "node.id": state.nodeId, cluster: state.clusterId }, "swarm initialised");
      return state.nodeId;
    } catch (err) {
      if (this.phase.kind === "pending") {
        this.phase = { kind: "inactive" };
        removeSwarmState(this.deps.dataDir);
      }
      throw err;
    }
  }

  async swarmJoin(_req: SwarmJoinRequest): Promise<void> {
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    throw notImplemented("swarm join (multi-node clusters)");
  }

  async swarmLeave(force: boolean): Promise<void> {
    const phase = this.phase;
    if (phase.kind === "inactive") throw unavailable(NOT_IN_SWARM);
    if (phase.kind === "pending") throw unavailable("This node is joining or leaving a swarm; try again");
    if (phase.state.role === "manager" && !force) throw unavailable(LAST_MANAGER);
    this.phase = { kind: "pending" };
    try {
      await phase.manager.stop({ leaving: true });
    } finally {
      removeSwarmState(this.deps.dataDir);
      this.phase = { kind: "inactive" };
    }
    this.deps.logger.info({ "node.id": phase.state.nodeId }, "left the swarm");
  }

  taskLogs(task: Task, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<TaskLogLine> {
    if (this.phase.kind !== "active") throw unavailable(NOT_A_MANAGER);
    if (task.NodeID !== this.phase.state.nodeId) throw notImplemented("logs of tasks on other nodes");
    return this.phase.manager.localTaskLogs(task.ID, opts, signal);
  }

  async swarmUnlock(_key: string): Promise<void> {
    if (this.phase.kind === "inactive") throw unavailable(NOT_IN_SWARM);
    throw new ShoalError(ErrorCode.Conflict, "swarm is not locked");
  }

  private activate(state: NodeState, manager: ManagerRuntime): void {
    const { clock, ids, logger } = this.deps;
    const control = new ControlApiImpl({
      store: manager.store,
      clock,
      ids,
      logger: logger.child({ module: "manager/controlapi" }),
    });
    this.phase = { kind: "active", state, manager, control };
  }
}

function parseAvailability(value: string | undefined): "active" | "pause" | "drain" {
  const v = (value || "active").toLowerCase();
  if (v === "active" || v === "pause" || v === "drain") return v;
  throw invalidArgument(`invalid Availability "${value}": must be active, pause or drain`);
}
