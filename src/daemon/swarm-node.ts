/**
 * This node's membership in a swarm: inactive, pending (starting or changing), or active as a
 * manager (store + control API) or a worker (agent only). It is the NodeBackend the Engine API
 * server talks to for `swarm init/join/leave` and `/info`.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { NodeDescription, SwarmInfo, SwarmSpec, Task } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import { internal, invalidArgument, notImplemented, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { parseUnlockKey } from "../ca/index.ts";
import type {
  NodeBackend,
  SwarmInitRequest,
  SwarmJoinRequest,
  TaskLogLine,
  TaskLogOptions,
} from "../engineapi/index.ts";
import type { ControlApi, EspProbe } from "../manager/controlapi/index.ts";
import {
  ControlApiImpl,
  clusterInfo,
  mergeSwarmSpec,
  newIngressNetwork,
  validateSwarmSpec,
} from "../manager/controlapi/index.ts";
import { DEFAULT_SWARM_PORT, resolveAddrs } from "./addr.ts";
import {
  initAutolock,
  invalidUnlockKey,
  lockedSwarmInfo,
  notLocked,
  refuseLockedLeave,
  swarmLocked,
} from "./autolock.ts";
import { bootstrapSwarm } from "./bootstrap.ts";
import { reformAsSoleManager } from "./force-new-cluster.ts";
import type { NodeKeys } from "./node-keys.ts";
import type { NodeState } from "./node-state.ts";
import { loadNodeState, removeSwarmState, saveNodeState, swarmDir } from "./node-state.ts";
import { errorText, failedSwarmInfo, ResumeRetry } from "./resume.ts";
import type { NodeRuntime } from "./runtime.ts";
import { killStaleEtcd } from "./stale-etcd.ts";
import {
  ALREADY_IN_SWARM,
  firstThat,
  LAST_MANAGER,
  MANAGER_PREPARING,
  NOT_A_MANAGER,
  NOT_IN_SWARM,
  parseAvailability,
  WORKER_NOT_MANAGER,
} from "./swarm-texts.ts";

export interface JoinedNode {
  nodeId: string;
  role: "manager" | "worker";
  clusterId: string;
  credentials: NodeCredentials;
}

export interface SwarmNodeDeps {
  dataDir: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** The node's TLS and data keys: wrapped with autolock, and what `swarm unlock` opens. */
  keys: NodeKeys;
  /**
   * Starts what the node runs for its role; `fresh` on swarm init (new store). The runtime calls
   * `onRoleChange` when a promotion or demotion needs the node to run the other role.
   */
  startRuntime(
    state: NodeState,
    fresh: boolean,
    onRoleChange: (role: "manager" | "worker", managers: string[]) => void,
  ): Promise<NodeRuntime>;
  /** Joins through a manager's cluster API with a token: certificate and node ID. */
  join(
    addr: string,
    token: string,
    availability: "active" | "pause" | "drain",
    advertiseAddr: string,
  ): Promise<JoinedNode>;
  /**
   * A node that joined as a manager becomes an etcd member through `managerAddr` before its
   * runtime starts (fills in `state.etcd`); absent: joining as a manager is not supported.
   */
  prepareManager?(state: NodeState, managerAddr: string, credentials: NodeCredentials): Promise<void>;
  /** The node's description (hostname, platform, resources, engine) as the agent sees it. */
  describeNode(): Promise<NodeDescription>;
  /** Whether the kernel has IPsec ESP, for encrypted overlays (absent: treated as missing). */
  espSupported?: EspProbe;
}

type Active = { kind: "active"; state: NodeState; runtime: NodeRuntime; control?: ControlApi };
/** A manager of an autolocked swarm, restarted: nothing runs until `swarm unlock`. */
type Locked = { kind: "locked"; state: NodeState };
/** A saved membership that could not resume (resume.ts): retried in the background. */
type Failed = { kind: "error"; state: NodeState; retry: ResumeRetry };
type Phase = { kind: "inactive" } | { kind: "pending" } | Locked | Failed | Active;

export class SwarmNode implements NodeBackend {
  private phase: Phase = { kind: "inactive" };

  constructor(private readonly deps: SwarmNodeDeps) {}

  /** Resumes the membership saved in the data dir, if any. */
  async start(): Promise<void> {
    const state = loadNodeState(this.deps.dataDir);
    if (!state) return;
    // Resuming: the node never shows "inactive" while its keys are looked at.
    this.phase = { kind: "pending" };
    let locked: boolean;
    try {
      // Plain key copies a killed daemon left in memory-backed storage.
      await this.deps.keys.closeLive();
      locked = await this.deps.keys.isLocked();
    } catch (err) {
      this.phase = { kind: "inactive" };
      throw err;
    }
    if (locked) {
      // A locked manager is no etcd member (SwarmKit's raft does not run either): an etcd its
      // killed predecessor left running would lose its plain key copy, so it goes now.
      await killStaleEtcd(join(swarmDir(this.deps.dataDir), "etcd"), this.deps.logger);
      this.phase = { kind: "locked", state };
      this.deps.logger.info({ "node.id": state.nodeId }, "swarm is locked: waiting for docker swarm unlock");
      return;
    }
    await this.run(state, false).catch((err: unknown) => this.failed(state, err));
  }

  async stop(): Promise<void> {
    if (this.phase.kind === "active") await this.phase.runtime.stop();
    if (this.phase.kind === "error") await this.phase.retry.cancel();
    this.phase = { kind: "inactive" };
  }

  /** resume.ts: the daemon keeps running; the membership is retried. */
  private failed(state: NodeState, err: unknown): void {
    this.deps.logger.error({ err, "node.id": state.nodeId }, "could not resume the swarm membership");
    const { clock, logger } = this.deps;
    const retry = new ResumeRetry(
      {
        clock,
        logger,
        start: () => this.deps.startRuntime(state, false, this.onRoleChange),
        started: (runtime) => this.activate(state, runtime),
      },
      errorText(err),
    );
    this.phase = { kind: "error", state, retry };
  }

  swarmHeader(): string {
    if (this.phase.kind === "pending") return "pending";
    if (this.phase.kind === "inactive") return "inactive";
    if (this.phase.kind === "locked") return "locked";
    if (this.phase.kind === "error") return "error";
    return this.phase.state.role === "manager" ? "active/manager" : "active/worker";
  }

  async swarmInfo(): Promise<SwarmInfo> {
    const phase = this.phase;
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
    const { state, runtime } = phase;
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

  control(): ControlApi {
    const phase = this.phase;
    if (phase.kind === "pending" || phase.kind === "error") throw unavailable(MANAGER_PREPARING);
    if (phase.kind === "locked") throw swarmLocked();
    if (phase.kind !== "active") throw unavailable(NOT_A_MANAGER);
    if (!phase.control) throw unavailable(WORKER_NOT_MANAGER);
    return phase.control;
  }

  async swarmInit(req: SwarmInitRequest): Promise<string> {
    const existing = req.ForceNewCluster ? this.membershipToForce() : undefined;
    if (existing) return this.forceNewCluster(existing, req);
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    const merged = mergeSwarmSpec(req.Spec as SwarmSpec | undefined);
    validateSwarmSpec(merged);
    const { spec, unlockKey } = initAutolock(req.AutoLockManagers, merged, this.deps.ids);
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
      managers: [`${addrs.advertiseAddr}:${addrs.advertisePort}`],
    };
    return this.changing(async () => {
      const description = await this.deps.describeNode();
      const fresh = await bootstrapSwarm(
        state,
        spec,
        req,
        availability,
        description,
        addrs.advertisePort,
        clock,
        ids,
        unlockKey,
      );
      // With autolock the keys are wrapped from their first write.
      await this.deps.keys.setKek(unlockKey ? parseUnlockKey(unlockKey) : undefined);
      await this.deps.keys.saveCredentials(fresh.credentials);
      const runtime = await this.deps.startRuntime(state, true, this.onRoleChange);
      try {
        await runtime.store?.update((tx) => {
          tx.create("clusters", fresh.cluster);
          tx.create("nodes", fresh.node);
          // SwarmKit creates the ingress network with a new cluster; the allocator gives it a subnet.
          tx.create("networks", newIngressNetwork(ids, fresh.cluster.CreatedAt ?? ""));
        });
        saveNodeState(this.deps.dataDir, state);
      } catch (err) {
        await runtime.stop();
        throw err;
      }
      this.activate(state, runtime);
      this.deps.logger.info({ "node.id": state.nodeId, cluster: state.clusterId }, "swarm initialised");
      return state.nodeId;
    });
  }

  /**
   * The membership `init --force-new-cluster` restarts: the running one, or one saved whose
   * manager could not start (no quorum); none means a plain init (moby does the same).
   */
  private membershipToForce(): NodeState | undefined {
    const phase = this.phase;
    if (phase.kind === "locked") throw swarmLocked();
    if (phase.kind === "pending") throw unavailable(MANAGER_PREPARING);
    if (phase.kind === "active" || phase.kind === "error") return phase.state;
    return loadNodeState(this.deps.dataDir);
  }

  /** force-new-cluster.ts: this manager's etcd member restarts alone from its data. */
  private async forceNewCluster(state: NodeState, req: SwarmInitRequest): Promise<string> {
    if (state.role !== "manager") throw unavailable(WORKER_NOT_MANAGER);
    const previous = this.phase;
    const { initialCluster: _joined, forceNewCluster: _once, ...etcd } = state.etcd;
    const next: NodeState = { ...state, etcd };
    return this.changing(async () => {
      if (previous.kind === "error") await previous.retry.cancel();
      if (previous.kind === "active") {
        await previous.runtime.abandonQuorum?.();
        await previous.runtime.stop();
      }
      const forced = { ...next, etcd: { ...etcd, forceNewCluster: true } };
      const runtime = await this.deps.startRuntime(forced, false, this.onRoleChange);
      saveNodeState(this.deps.dataDir, next);
      this.activate(next, runtime);
      const { store } = runtime;
      if (store) await reformAsSoleManager(store, this.control(), next.nodeId, req, this.deps.clock);
      this.deps.logger.info({ "node.id": next.nodeId }, "forced a new cluster: the only manager now");
      return next.nodeId;
    }, false);
  }

  async swarmJoin(req: SwarmJoinRequest): Promise<void> {
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    const remote = req.RemoteAddrs?.[0];
    if (!remote) throw invalidArgument("at least 1 RemoteAddr is required to join");
    if (!req.JoinToken) throw invalidArgument("a join token is required to join a swarm");
    const managerAddr = remote.includes(":") ? remote : `${remote}:${DEFAULT_SWARM_PORT}`;
    const availability = parseAvailability(req.Availability);
    const addrs = resolveAddrs(req.ListenAddr, req.AdvertiseAddr);
    await this.changing(async () => {
      const joined = await this.deps.join(
        managerAddr,
        req.JoinToken as string,
        availability,
        addrs.advertiseAddr,
      );
      if (joined.role === "manager" && !this.deps.prepareManager) {
        throw notImplemented("joining as a manager");
      }
      await this.deps.keys.saveCredentials(joined.credentials);
      const state: NodeState = {
        nodeId: joined.nodeId,
        clusterId: joined.clusterId,
        role: joined.role,
        advertiseAddr: addrs.advertiseAddr,
        listenAddr: `${addrs.listenHost}:${addrs.listenPort}`,
        etcd: { clientPort: 0, peerPort: 0 },
        managers: [managerAddr],
      };
      if (joined.role === "manager") await this.deps.prepareManager?.(state, managerAddr, joined.credentials);
      saveNodeState(this.deps.dataDir, state);
      const runtime = await this.deps.startRuntime(state, false, this.onRoleChange);
      this.activate(state, runtime);
      this.deps.logger.info(
        { "node.id": state.nodeId, manager: managerAddr, role: joined.role },
        `joined the swarm as a ${joined.role}`,
      );
    });
  }

  async swarmLeave(force: boolean): Promise<void> {
    const phase = this.phase;
    if (phase.kind === "inactive") throw unavailable(NOT_IN_SWARM);
    if (phase.kind === "pending") throw unavailable("This node is joining or leaving a swarm; try again");
    if (phase.kind === "error") {
      if (phase.state.role === "manager" && !force) throw unavailable(LAST_MANAGER);
      await phase.retry.cancel();
      this.leftSwarm();
      this.deps.logger.info({ "node.id": phase.state.nodeId }, "left the swarm it could not resume");
      return;
    }
    if (phase.kind === "locked") {
      refuseLockedLeave(force);
      // moby removes no containers here: a locked node does not know which tasks are its own.
      this.leftSwarm();
      this.deps.logger.info({ "node.id": phase.state.nodeId }, "left the swarm while locked");
      return;
    }
    if (phase.state.role === "manager") {
      if (phase.runtime.prepareLeave) await phase.runtime.prepareLeave(force);
      else if (!force) throw unavailable(LAST_MANAGER);
    }
    this.phase = { kind: "pending" };
    try {
      await phase.runtime.stop({ leaving: true });
    } finally {
      this.leftSwarm();
    }
    this.deps.logger.info({ "node.id": phase.state.nodeId }, "left the swarm");
  }

  /**
   * `swarm unlock`: moby's checks in its order (not a locked manager → why not; a malformed key;
   * a key that does not open this node's keys), then the node starts as it would have on restart.
   */
  async swarmUnlock(key: string): Promise<void> {
    const phase = this.phase;
    if (phase.kind !== "locked") {
      if (phase.kind === "active" && phase.control) throw notLocked();
      this.control(); // throws why this node is no manager (inactive, pending, worker)
      throw unavailable(NOT_A_MANAGER);
    }
    const kek = parseUnlockKey(key);
    // Pending while the key is tried: a second unlock meanwhile cannot start a second runtime.
    this.phase = { kind: "pending" };
    const opened = await this.deps.keys.unlock(kek).catch((err: unknown) => {
      this.phase = phase;
      throw err;
    });
    if (!opened) {
      this.phase = phase;
      throw invalidUnlockKey();
    }
    try {
      await this.run(phase.state, false);
    } catch (err) {
      // The key was right: as moby's node runner, the node stays unlocked and keeps trying (say, a
      // manager without quorum), so that `swarm init --force-new-cluster` can recover it.
      this.failed(phase.state, err);
      throw internal(`swarm component could not be started: ${(err as Error).message}`, err);
    }
    this.deps.logger.info({ "node.id": phase.state.nodeId }, "swarm unlocked");
  }

  taskLogs(task: Task, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<TaskLogLine> {
    if (this.phase.kind === "locked") throw swarmLocked();
    if (this.phase.kind !== "active") throw unavailable(NOT_A_MANAGER);
    return this.phase.runtime.taskLogs(task.NodeID ?? "", task.ID, opts, signal);
  }

  private async run(state: NodeState, fresh: boolean): Promise<void> {
    await this.changing(
      async () => this.activate(state, await this.deps.startRuntime(state, fresh, this.onRoleChange)),
      false,
    );
  }

  /**
   * Runs a membership change in the pending phase. On failure the node is inactive again; a failed
   * init or join also removes what it wrote, a failed resume keeps the saved state for a retry.
   */
  private async changing<T>(fn: () => Promise<T>, cleanup = true): Promise<T> {
    this.phase = { kind: "pending" };
    try {
      return await fn();
    } catch (err) {
      if (this.phase.kind === "pending") {
        this.phase = { kind: "inactive" };
        if (cleanup) this.leftSwarm();
      }
      throw err;
    }
  }

  private readonly onRoleChange = (role: "manager" | "worker", managers: string[]): void => {
    // switchRole logs its own failure; nothing else awaits it.
    void this.switchRole(role, managers).catch((err: unknown) =>
      this.deps.logger.error({ err, role }, "role change failed"),
    );
  };

  /**
   * Promotion or demotion: the certificate already carries the new role. The runtime is stopped
   * without removing containers (the next one adopts them), a promoted node becomes an etcd member
   * through a manager, a demoted one drops its etcd data, and the runtime for the role starts.
   * If that fails, the previous runtime is started again so the node is not left inactive.
   */
  private async switchRole(role: "manager" | "worker", managers: string[]): Promise<void> {
    const phase = this.phase;
    if (phase.kind !== "active" || phase.state.role === role) return;
    this.phase = { kind: "pending" };
    const dir = swarmDir(this.deps.dataDir);
    const state: NodeState = { ...phase.state, role, managers };
    try {
      await phase.runtime.stop();
      if (role === "manager") {
        const creds = await this.deps.keys.credentials();
        if (!creds || !this.deps.prepareManager) throw notImplemented("promotion without credentials");
        await firstThat(managers, (addr) => this.deps.prepareManager?.(state, addr, creds));
      } else {
        state.etcd = { clientPort: 0, peerPort: 0 };
        await rm(join(dir, "etcd"), { recursive: true, force: true });
        // Workers are never locked, and hold no data key.
        await this.deps.keys.setKek(undefined);
        await this.deps.keys.dropDataKey();
      }
      saveNodeState(this.deps.dataDir, state);
      this.activate(state, await this.deps.startRuntime(state, false, this.onRoleChange));
      this.deps.logger.info({ "node.id": state.nodeId, role }, `now a ${role}`);
    } catch (err) {
      this.deps.logger.error({ err, role }, "could not change role; resuming the previous one");
      // A failed promotion may have taken the cluster's unlock key: the worker's key is plain again.
      if (role === "manager") await this.deps.keys.setKek(undefined);
      this.activate(phase.state, await this.deps.startRuntime(phase.state, false, this.onRoleChange));
    }
  }

  /** The swarm's files are gone, and with them any unlock key. */
  private leftSwarm(): void {
    removeSwarmState(this.deps.dataDir);
    this.deps.keys.forget();
    this.phase = { kind: "inactive" };
  }

  private activate(state: NodeState, runtime: NodeRuntime): void {
    const { clock, ids, logger } = this.deps;
    const control = runtime.store
      ? new ControlApiImpl({
          store: runtime.store,
          clock,
          ids,
          logger: logger.child({ module: "manager/controlapi" }),
          ...(this.deps.espSupported ? { espSupported: this.deps.espSupported } : {}),
        })
      : undefined;
    this.phase = { kind: "active", state, runtime, ...(control ? { control } : {}) };
  }
}
