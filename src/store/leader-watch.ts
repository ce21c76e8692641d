/**
 * Whether the local etcd member has a leader, kept up to date off the read path. SwarmKit sends
 * every control call through its raft proxy, which refuses once the raft has ticked without a
 * leader for longer than `lostQuorumTimeout` (10 ticks); shoal's reads come from the store's
 * cache, so without this a cut-off manager would keep answering with a stale state. A probe (the
 * member's status) runs every `pollMs`; reads only compare two numbers.
 */
import type { Clock } from "../base/index.ts";

export interface LeaderWatchConfig {
  /** How often the local member is asked whether it has a leader. */
  pollMs: number;
  /**
   * How long the member may go without a confirmed leader before calls are refused: longer than
   * an election, so a healthy cluster that replaces its leader keeps answering.
   */
  graceMs: number;
}

export const defaultLeaderWatchConfig = (): LeaderWatchConfig => ({ pollMs: 500, graceMs: 5000 });

/** The decision: the member's leader was last confirmed longer than the grace ago. */
export function quorumLost(lastLeaderAtMs: number, nowMs: number, graceMs: number): boolean {
  return nowMs - lastLeaderAtMs > graceMs;
}

export class LeaderWatch {
  private lastLeaderAt: number;

  /**
   * `probe` resolves true when the member answers that it has a leader; false or a rejection
   * (no leader, member unreachable) leaves the last confirmation where it was.
   */
  constructor(
    private readonly probe: () => Promise<boolean>,
    private readonly clock: Clock,
    private readonly config: LeaderWatchConfig,
  ) {
    // A store opens only after a call that needed a leader succeeded.
    this.lastLeaderAt = clock.now();
  }

  /** Any call that needed a leader and succeeded (a committed write) confirms one. */
  sawLeader(): void {
    this.lastLeaderAt = this.clock.now();
  }

  lost(): boolean {
    return quorumLost(this.lastLeaderAt, this.clock.now(), this.config.graceMs);
  }

  /** Probes until the signal aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.probe().catch(() => false)) this.sawLeader();
      await this.clock.sleep(this.config.pollMs, signal).catch(() => {});
    }
  }
}
