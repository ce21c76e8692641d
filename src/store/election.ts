/**
 * Leader election for the manager: exactly one candidate leads at a time; the others wait and take
 * over when it resigns or loses its lease. Two implementations: etcd (election-etcd.ts, lease based)
 * and memory (below, for unit tests and simulations in one process).
 */

export interface ElectionCallbacks {
  /**
   * This candidate became leader. `leaderSignal` aborts the moment it stops being leader (resigned,
   * lease lost): leader-only loops take it as their run signal.
   */
  onElected?(leaderSignal: AbortSignal): void;
  /** The leader changed (this candidate or another); undefined while no leader is known. */
  onLeaderChange?(leaderId: string | undefined): void;
}

export interface LeaderElection {
  /**
   * Campaigns until `signal` aborts, then resigns (handing over at once) and resolves. After losing
   * leadership involuntarily it campaigns again. Rejects if the election backend cannot be reached
   * when it starts; the caller decides when to try again.
   */
  run(signal: AbortSignal, callbacks: ElectionCallbacks): Promise<void>;
}

interface Candidate {
  id: string;
  callbacks: ElectionCallbacks;
  leadership: AbortController | undefined;
}

/**
 * The shared arena of the memory election (what etcd is for the real one): candidates queue in
 * campaign order; the first leads; resigning hands over to the next.
 */
export class MemoryElectionArena {
  private readonly queue: Candidate[] = [];
  private current: string | undefined;

  /** The current leader's ID. */
  leader(): string | undefined {
    return this.queue[0]?.id;
  }

  /** Takes leadership away from the current leader as a lost lease would; it queues again. */
  depose(): void {
    const head = this.queue.shift();
    if (!head) return;
    head.leadership?.abort(new Error("leadership lost"));
    head.leadership = undefined;
    this.queue.push(head);
    this.settle();
  }

  /** @internal */
  join(candidate: Candidate): void {
    this.queue.push(candidate);
    candidate.callbacks.onLeaderChange?.(this.current);
    this.settle();
  }

  /** @internal */
  leave(candidate: Candidate): void {
    const i = this.queue.indexOf(candidate);
    if (i >= 0) this.queue.splice(i, 1);
    candidate.leadership?.abort(new Error("resigned"));
    candidate.leadership = undefined;
    this.settle();
  }

  private settle(): void {
    const head = this.queue[0];
    if (head && !head.leadership) {
      head.leadership = new AbortController();
      head.callbacks.onElected?.(head.leadership.signal);
    }
    const leader = head?.id;
    if (leader === this.current) return;
    this.current = leader;
    for (const c of this.queue) c.callbacks.onLeaderChange?.(leader);
  }
}

/** One candidate in a MemoryElectionArena. */
export class MemoryLeaderElection implements LeaderElection {
  constructor(
    private readonly arena: MemoryElectionArena,
    private readonly candidateId: string,
  ) {}

  async run(signal: AbortSignal, callbacks: ElectionCallbacks): Promise<void> {
    if (signal.aborted) return;
    const candidate: Candidate = { id: this.candidateId, callbacks, leadership: undefined };
    this.arena.join(candidate);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    this.arena.leave(candidate);
  }
}
