/**
 * The agent: keeps one session with a dispatcher, hands assignments to the executor, sends task
 * status back, and heartbeats. When a session fails it registers again with backoff (SwarmKit's:
 * from 100 ms, doubling plus 100 ms, at most 8 s).
 */
import type {
  DispatcherConnector,
  DispatcherSession,
  NetworkPeers,
  NodeDescription,
  Task,
  TaskStatusReport,
} from "../api/index.ts";
import type { Clock, Logger } from "../base/index.ts";
import { AssignedPayloads, type TaskPayloadSource } from "./secrets/payloads.ts";
import { AssignedTasks, Coalescer, StatusReporter } from "./worker.ts";

/** What the agent needs from whatever runs tasks on this node (the Docker executor, or a fake). */
export interface TaskExecutor {
  describeNode(): Promise<NodeDescription>;
  /**
   * The complete set of tasks this node should know about; the executor converges to it.
   * `payloads` holds the node's secrets and configs (in memory); each task sees only its own.
   */
  assign(tasks: Task[], payloads: TaskPayloadSource, peers?: NetworkPeers): Promise<void>;
}

export interface AgentDeps {
  nodeId: string;
  connector: DispatcherConnector;
  executor: TaskExecutor;
  clock: Clock;
  logger: Logger;
}

const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 8000;
/** Pause before sending again after a failed status report. */
const REPORT_RETRY_MS = 100;

export class Agent {
  private readonly assigned = new AssignedTasks();
  private readonly payloads = new AssignedPayloads();
  private readonly reporter = new StatusReporter();
  private session: DispatcherSession | undefined;
  /** The data plane's view of the node's networks, as last received. */
  private peers: NetworkPeers | undefined;
  private wakeReporter: (() => void) | undefined;

  constructor(private readonly deps: AgentDeps) {}

  /** Where the executor sends task status changes. */
  readonly reportStatus = (report: TaskStatusReport): void => {
    this.reporter.add(report);
    this.wakeReporter?.();
  };

  async run(signal: AbortSignal): Promise<void> {
    let backoff = 0;
    const reporting = this.reportLoop(signal);
    while (!signal.aborted) {
      try {
        await this.runSession(signal);
        backoff = 0;
      } catch (err) {
        if (signal.aborted) break;
        backoff = Math.min(
          MAX_BACKOFF_MS,
          backoff === 0 ? INITIAL_BACKOFF_MS : backoff * 2 + INITIAL_BACKOFF_MS,
        );
        this.deps.logger.warn({ err, backoffMs: backoff }, "dispatcher session failed; registering again");
        await this.deps.clock.sleep(backoff, signal).catch(() => undefined);
      }
    }
    this.wakeReporter?.();
    await reporting;
  }

  private async runSession(signal: AbortSignal): Promise<void> {
    const { connector, executor, nodeId, logger } = this.deps;
    const session = await connector.openSession(nodeId, await executor.describeNode());
    this.session = session;
    const onAbort = () => session.close();
    signal.addEventListener("abort", onAbort, { once: true });
    const ended = new AbortController();
    const beating = this.heartbeatLoop(session, ended.signal);
    this.wakeReporter?.();
    let tasks: Task[] = [];
    let received = 0;
    // the executor converges to the latest state; messages arriving meanwhile fold into the next run
    const converge = new Coalescer(
      async () => {
        const [started, messages] = [this.deps.clock.now(), received];
        received = 0;
        await executor.assign(tasks, this.payloads, this.peers);
        logger.debug({ messages, ms: this.deps.clock.now() - started }, "assignments applied");
      },
      // ends the stream below, which then rethrows the error: the agent registers again
      () => session.close(),
    );
    try {
      for await (const msg of session.assignments()) {
        // counts only: a secret's name or data never goes to a log
        logger.debug({ kind: msg.kind, tasks: msg.tasks.length, removed: msg.removed.length }, "assignment");
        this.payloads.apply(msg);
        if (msg.peers) this.peers = msg.peers;
        tasks = this.assigned.apply(msg);
        received++;
        converge.poke();
      }
      await converge.idle();
      if (!signal.aborted) throw new Error("assignment stream ended");
    } finally {
      this.session = undefined;
      ended.abort();
      signal.removeEventListener("abort", onAbort);
      session.close();
      await Promise.all([beating.catch(() => undefined), converge.idle().catch(() => undefined)]);
    }
  }

  private async heartbeatLoop(session: DispatcherSession, signal: AbortSignal): Promise<void> {
    let period = session.info.heartbeatPeriodMs;
    while (!signal.aborted) {
      await this.deps.clock.sleep(period, signal);
      try {
        period = await session.heartbeat();
      } catch (err) {
        this.deps.logger.warn({ err }, "heartbeat failed; closing the session");
        session.close();
        return;
      }
    }
  }

  /**
   * Sends status reports whenever a session is up, keeping them across reconnects. A report goes
   * at once when no send is in flight; those arriving during a send go together right after it,
   * so a burst costs few dispatcher writes without delaying the first report.
   */
  private async reportLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted || this.reporter.size > 0) {
      const session = this.session;
      if (session && this.reporter.size > 0) {
        const batch = this.reporter.take();
        try {
          await session.updateTaskStatus(batch);
          continue;
        } catch (err) {
          this.reporter.restore(batch);
          this.deps.logger.warn({ err }, "status report failed; will retry");
          if (signal.aborted) break;
          await this.deps.clock.sleep(REPORT_RETRY_MS, signal).catch(() => undefined);
          continue;
        }
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        this.wakeReporter = resolve;
        if (this.reporter.size > 0 && this.session) resolve();
      });
      this.wakeReporter = undefined;
    }
  }
}
