/**
 * The dispatcher: agents' sessions, node liveness by heartbeat, and task status written back in
 * batches. It runs on every manager; all it shares with the other loops is the store.
 */
import type {
  DispatcherConnector,
  DispatcherSession,
  NodeDescription,
  TaskStatusReport,
} from "../../api/index.ts";
import type { Clock, Ids, Logger, Timer } from "../../base/index.ts";
import { notFound, timestamp, unavailable } from "../../base/index.ts";
import type { Store, WriteTx } from "../../store/types.ts";
import { applyStatus } from "./assignments.ts";
import { AgentSession } from "./session.ts";

export interface DispatcherConfig {
  /**
   * Swarm's DefaultHeartBeatPeriod: 5 s. The cluster spec's Dispatcher.HeartbeatPeriod
   * (`docker swarm update --dispatcher-heartbeat`), when set, takes its place.
   */
  heartbeatPeriodMs: number;
  /** A node is down after this many periods without a heartbeat (defaultGracePeriodMultiplier). */
  graceMultiplier: number;
}

export const defaultDispatcherConfig = (): DispatcherConfig => ({
  heartbeatPeriodMs: 5000,
  graceMultiplier: 3,
});

export interface DispatcherDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  config?: Partial<DispatcherConfig>;
}

interface NodeLiveness {
  sessionId: string;
  expiry: Timer;
  /** The agent heartbeated this session at least once (it holds it). */
  beaten: boolean;
}

export class Dispatcher implements DispatcherConnector {
  private readonly config: DispatcherConfig;
  private readonly live = new Map<string, NodeLiveness>();
  private readonly sessions = new Set<AgentSession>();
  private queued: Array<{ nodeId: string; report: TaskStatusReport }> = [];
  /** A write of the queued reports is chained after the one in flight. */
  private flushQueued = false;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Nodes whose `ready` state is being written back. */
  private readonly reasserting = new Set<string>();

  constructor(private readonly deps: DispatcherDeps) {
    this.config = { ...defaultDispatcherConfig(), ...deps.config };
  }

  async openSession(nodeId: string, description: NodeDescription): Promise<DispatcherSession> {
    const { store, clock, ids } = this.deps;
    await store.update((tx) => {
      const node = tx.get("nodes", nodeId);
      if (!node) throw notFound(`node ${nodeId} not found`);
      tx.update("nodes", {
        ...node,
        Description: { ...description, TLSInfo: node.Description?.TLSInfo ?? description.TLSInfo },
        Status: { ...node.Status, State: "ready", Message: "" },
        UpdatedAt: timestamp(clock),
      });
    });
    const sessionId = ids.newId();
    const session = new AgentSession({ sessionId, heartbeatPeriodMs: this.periodMs() }, nodeId, store, {
      heartbeat: (n, s) => this.beat(n, s),
      report: (n, reports) => this.report(n, reports),
      closed: (n, s) => this.abandoned(n, s),
    });
    this.sessions.add(session);
    session.signal.addEventListener("abort", () => this.sessions.delete(session), { once: true });
    this.arm(nodeId, sessionId, false);
    this.deps.logger.debug({ "node.id": nodeId, session: sessionId }, "agent session opened");
    return session;
  }

  /** Ends every session and timer; pending status reports are written first. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of [...this.sessions]) s.close();
    for (const l of this.live.values()) l.expiry.cancel();
    this.live.clear();
    this.flush();
    await this.flushing;
  }

  /** A heartbeat on a session that is no longer the node's live one must re-register. */
  private beat(nodeId: string, sessionId: string): number {
    if (this.live.get(nodeId)?.sessionId !== sessionId) {
      throw unavailable("session is no longer valid; register again");
    }
    const period = this.arm(nodeId, sessionId, true);
    this.reassertReady(nodeId);
    return period;
  }

  /**
   * A node whose agent heartbeats a live session here is up, whatever the store says: another
   * manager may have marked it down meanwhile (the leader, while this manager was cut off from the
   * others; or a dispatcher the agent left, when its grace ran out), and while the session lasts
   * nothing else would make it ready again. One write a node at a time; a failed one (no quorum
   * yet) is tried again at the next heartbeat.
   */
  private reassertReady(nodeId: string): void {
    const { store, clock, logger } = this.deps;
    if (this.reasserting.has(nodeId)) return;
    if (store.view((tx) => tx.get("nodes", nodeId))?.Status?.State !== "down") return;
    this.reasserting.add(nodeId);
    store
      .update((tx) => {
        const node = tx.get("nodes", nodeId);
        if (node?.Status?.State !== "down") return;
        tx.update("nodes", {
          ...node,
          Status: { ...node.Status, State: "ready", Message: "" },
          UpdatedAt: timestamp(clock),
        });
      })
      .then(
        () => logger.info({ "node.id": nodeId }, "node ready again: its agent heartbeats here"),
        (err: unknown) => logger.warn({ err, "node.id": nodeId }, "could not mark the node ready again"),
      )
      .finally(() => this.reasserting.delete(nodeId));
  }

  /**
   * A session closed before its first heartbeat was never used: the agent gave up waiting for it
   * (say, while etcd elected a leader) and holds a session on another manager now. Its timer must
   * not mark the node down there. A session closed after heartbeats keeps its timer: an agent that
   * dies is marked down when the grace period ends (SwarmKit's behaviour).
   */
  private abandoned(nodeId: string, sessionId: string): void {
    const l = this.live.get(nodeId);
    if (l?.sessionId !== sessionId || l.beaten) return;
    l.expiry.cancel();
    this.live.delete(nodeId);
  }

  /**
   * Every heartbeat answers the current period, so a `swarm update --dispatcher-heartbeat` reaches
   * each agent at its next beat (as in SwarmKit), and the grace is counted from the new period.
   */
  private arm(nodeId: string, sessionId: string, beaten: boolean): number {
    this.live.get(nodeId)?.expiry.cancel();
    const period = this.periodMs();
    const ttl = period * this.config.graceMultiplier;
    const expiry = this.deps.clock.setTimer(ttl, () => void this.markDown(nodeId, sessionId));
    this.live.set(nodeId, { sessionId, expiry, beaten });
    return period;
  }

  private periodMs(): number {
    const ns = this.deps.store.view((tx) => tx.list("clusters")[0]?.Spec?.Dispatcher?.HeartbeatPeriod);
    return typeof ns === "number" && ns > 0
      ? Math.max(1, Math.round(ns / 1e6))
      : this.config.heartbeatPeriodMs;
  }

  /** Called by the expiry timer; failures are logged here, nothing else awaits it. */
  private async markDown(nodeId: string, sessionId: string): Promise<void> {
    if (this.stopped || this.live.get(nodeId)?.sessionId !== sessionId) return;
    this.live.delete(nodeId);
    try {
      await this.deps.store.update((tx) => {
        const node = tx.get("nodes", nodeId);
        if (!node) return;
        tx.update("nodes", {
          ...node,
          Status: { ...node.Status, State: "down", Message: "heartbeat failure" },
          UpdatedAt: timestamp(this.deps.clock),
        });
      });
      this.deps.logger.info({ "node.id": nodeId }, "node down: heartbeat failure");
    } catch (err) {
      this.deps.logger.error({ err, "node.id": nodeId }, "could not mark node down");
    }
  }

  /**
   * Swarm waits up to 100 ms to batch status reports (maxBatchInterval). Here reports that arrive
   * while a write is in flight join the next write: batches grow with the load, and an idle
   * dispatcher writes a report at once, which is what a task's heal or start time waits for.
   */
  private report(nodeId: string, reports: TaskStatusReport[]): Promise<void> {
    for (const report of reports) this.queued.push({ nodeId, report });
    this.flush();
    return Promise.resolve();
  }

  /** Writes queued status reports; each report is its own unit, so one bad report spoils nothing. */
  private flush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.flushing = this.flushing.then(() => {
      this.flushQueued = false;
      return this.writeQueued();
    });
  }

  private async writeQueued(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const { logger, clock } = this.deps;
    const units = batch.map(({ nodeId, report }) => (tx: WriteTx) => {
      const result = applyStatus(tx.get("tasks", report.taskId), nodeId, report.status);
      if (!result.ok) {
        logger.debug(
          { "task.id": report.taskId, "node.id": nodeId, reason: result.reason },
          "status report dropped",
        );
        return;
      }
      tx.update("tasks", { ...result.task, UpdatedAt: timestamp(clock) });
    });
    try {
      const errors = await this.deps.store.batch(units);
      for (const err of errors) if (err) logger.warn({ err }, "task status write failed");
    } catch (err) {
      logger.error({ err }, "task status batch failed");
    }
  }
}
