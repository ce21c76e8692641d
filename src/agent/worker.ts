/**
 * The worker's view of what this node should run: assignment messages folded into one task set,
 * converged one burst at a time, and status reports coalesced per task (the latest wins) until a
 * session takes them.
 */
import type { AssignmentMessage, Task, TaskStatusReport } from "../api/index.ts";

export class AssignedTasks {
  private readonly tasks = new Map<string, Task>();

  /** Applies a message; returns the full set the executor should now run. */
  apply(msg: AssignmentMessage): Task[] {
    if (msg.kind === "complete") this.tasks.clear();
    for (const id of msg.removed) this.tasks.delete(id);
    for (const t of msg.tasks) this.tasks.set(t.ID, t);
    return [...this.tasks.values()];
  }

  get size(): number {
    return this.tasks.size;
  }
}

export class StatusReporter {
  private pending = new Map<string, TaskStatusReport>();

  add(report: TaskStatusReport): void {
    this.pending.set(report.taskId, report);
  }

  /** Takes everything pending; on a failed send, `restore` puts back what a newer report didn't replace. */
  take(): TaskStatusReport[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }

  restore(reports: TaskStatusReport[]): void {
    for (const r of reports) if (!this.pending.has(r.taskId)) this.pending.set(r.taskId, r);
  }

  get size(): number {
    return this.pending.size;
  }
}

/**
 * Runs `apply` whenever poked, one run at a time; pokes during a run fold into one more run, which
 * then sees everything that arrived meanwhile. The agent converges this way so that a burst of
 * assignment messages (a rolling update touches every node's peer view several times per task)
 * costs one convergence, not one each: a node that fell behind catches up in one step instead of
 * replaying stale views while a going task's drain period runs out.
 */
export class Coalescer {
  private running: Promise<void> | undefined;
  private dirty = false;
  private failure: unknown;

  constructor(
    private readonly apply: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  poke(): void {
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves when no run is in progress; rejects with the error a run failed with. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        await this.apply();
      } while (this.dirty);
    } catch (err) {
      this.failure = err;
      this.onError(err);
    } finally {
      this.running = undefined;
    }
  }
}
