/**
 * A saved membership that fails to resume (typically a manager whose etcd member finds no quorum:
 * the other managers are down) does not take the daemon down. The node shows Swarm's `error` state
 * with the reason, keeps trying in the background (the others may come back), and meanwhile
 * `swarm init --force-new-cluster` or `swarm leave --force` work, as with moby's node runner.
 */
import type { SwarmInfo } from "../api/index.ts";
import type { Clock, Logger } from "../base/index.ts";
import type { NodeState } from "./node-state.ts";
import type { NodeRuntime } from "./runtime.ts";

export const RESUME_RETRY_MS = 10_000;

export interface ResumeRetryDeps {
  clock: Clock;
  logger: Logger;
  /** One attempt at starting the runtime. */
  start(): Promise<NodeRuntime>;
  /** An attempt succeeded (not called once cancelled). */
  started(runtime: NodeRuntime): void;
  periodMs?: number;
}

export class ResumeRetry {
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  constructor(
    private readonly deps: ResumeRetryDeps,
    /** Why the last attempt failed (shown as SwarmInfo.Error). */
    public message: string,
  ) {
    this.done = this.loop();
  }

  /** Stops retrying; resolves once no attempt is under way (a runtime started meanwhile is stopped). */
  async cancel(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async loop(): Promise<void> {
    const { clock, logger } = this.deps;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await clock.sleep(this.deps.periodMs ?? RESUME_RETRY_MS, signal).catch(() => undefined);
      if (signal.aborted) return;
      let runtime: NodeRuntime;
      try {
        runtime = await this.deps.start();
      } catch (err) {
        this.message = errorText(err);
        logger.warn({ err }, "the swarm membership still cannot resume; retrying");
        continue;
      }
      if (signal.aborted) {
        await runtime.stop();
        return;
      }
      logger.info({}, "the swarm membership resumed");
      this.deps.started(runtime);
      return;
    }
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `/info`'s Swarm section of a node in the error state. */
export function failedSwarmInfo(state: NodeState, message: string): SwarmInfo {
  return {
    NodeID: state.nodeId,
    NodeAddr: state.advertiseAddr,
    LocalNodeState: "error",
    ControlAvailable: false,
    Error: message,
    RemoteManagers: null,
  };
}
