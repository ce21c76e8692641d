/**
 * This node's membership in a swarm: inactive, pending (starting or changing), or active as a
 * manager (store + control API) or a worker (agent only). It is the NodeBackend the Engine API
 * server talks to for `swarm init/join/leave` and `/info`.
 */
import { join } from "node:path";
import type { SwarmInfo, Task } from "../api/index.ts";
import { internal, notImplemented, unavailable } from "../base/index.ts";
import { parseUnlockKey } from "../ca/index.ts";
import type {
  NodeBackend,
  SwarmInitRequest,
  SwarmJoinRequest,
  TaskLogLine,
  TaskLogOptions,
} from "../engineapi/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";
import { ControlApiImpl, newIngressNetwork } from "../manager/controlapi/index.ts";
import { invalidUnlockKey, notLocked, refuseLockedLeave, swarmLocked } from "./autolock.ts";
import { bootstrapSwarm } from "./bootstrap.ts";
import { reformAsSoleManager } from "./force-new-cluster.ts";
import type { NodeState } from "./node-state.ts";
import { loadNodeState, removeSwarmState, saveNodeState, swarmDir } from "./node-state.ts";
import { errorText, ResumeRetry } from "./resume.ts";
import { prepareRole, undoRole } from "./role-switch.ts";
import type { NodeRuntime } from "./runtime.ts";
import { killStaleEtcd } from "./stale-etcd.ts";
import type { SwarmNodeDeps } from "./swarm-deps.ts";
import { controlOf, type Phase, swarmHeader, swarmInfo } from "./swarm-phase.ts";
import { joinedState, planInit, planJoin } from "./swarm-requests.ts";
import {
  ALREADY_IN_SWARM,
  LAST_MANAGER,
  MANAGER_PREPARING,
  NOT_A_MANAGER,
  NOT_IN_SWARM,
  WORKER_NOT_MANAGER,
} from "./swarm-texts.ts";

export type { JoinedNode, SwarmNodeDeps } from "./swarm-deps.ts";

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
    return swarmHeader(this.phase);
  }

  async swarmInfo(): Promise<SwarmInfo> {
    return swarmInfo(this.phase);
  }

  /**
   * For the Engine API: like every control call through SwarmKit's raft proxy, refused with the
   * lost-quorum error on a manager whose store has had no leader for a while.
   */
  control(): ControlApi {
    const control = controlOf(this.phase);
    if (this.phase.kind === "active") this.phase.runtime.store?.assertQuorum?.();
    return control;
  }

  async swarmInit(req: SwarmInitRequest): Promise<string> {
    const existing = req.ForceNewCluster ? this.membershipToForce() : undefined;
    if (existing) return this.forceNewCluster(existing, req);
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    const { state, spec, unlockKey, availability, advertisePort } = planInit(req, this.deps.ids);
    const { ids, clock } = this.deps;
    return this.changing(async () => {
      const description = await this.deps.describeNode();
      const fresh = await bootstrapSwarm(
        state,
        spec,
        req,
        availability,
        description,
        advertisePort,
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
      if (store) await reformAsSoleManager(store, controlOf(this.phase), next.nodeId, req, this.deps.clock);
      this.deps.logger.info({ "node.id": next.nodeId }, "forced a new cluster: the only manager now");
      return next.nodeId;
    }, false);
  }

  async swarmJoin(req: SwarmJoinRequest): Promise<void> {
    if (this.phase.kind !== "inactive") throw unavailable(ALREADY_IN_SWARM);
    const plan = planJoin(req);
    await this.changing(async () => {
      const joined = await this.deps.join(
        plan.managerAddr,
        plan.token,
        plan.availability,
        plan.addrs.advertiseAddr,
      );
      if (joined.role === "manager" && !this.deps.prepareManager) {
        throw notImplemented("joining as a manager");
      }
      await this.deps.keys.saveCredentials(joined.credentials);
      const state = joinedState(joined, plan);
      if (joined.role === "manager") {
        await this.deps.prepareManager?.(state, plan.managerAddr, joined.credentials);
      }
      saveNodeState(this.deps.dataDir, state);
      const runtime = await this.deps.startRuntime(state, false, this.onRoleChange);
      this.activate(state, runtime);
      this.deps.logger.info(
        { "node.id": state.nodeId, manager: plan.managerAddr, role: joined.role },
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
   * without removing containers (the next one adopts them), the node is readied for the role
   * (role-switch.ts), and the runtime for the role starts. If that fails, the previous runtime is
   * started again so the node is not left inactive.
   */
  private async switchRole(role: "manager" | "worker", managers: string[]): Promise<void> {
    const phase = this.phase;
    if (phase.kind !== "active" || phase.state.role === role) return;
    this.phase = { kind: "pending" };
    try {
      await phase.runtime.stop();
      const state = await prepareRole(this.deps, phase.state, role, managers);
      this.activate(state, await this.deps.startRuntime(state, false, this.onRoleChange));
      this.deps.logger.info({ "node.id": state.nodeId, role }, `now a ${role}`);
    } catch (err) {
      this.deps.logger.error({ err, role }, "could not change role; resuming the previous one");
      await undoRole(this.deps, role);
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
