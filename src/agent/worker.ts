/**
 * The worker's view of what this node should run: assignment messages folded into one task set,
 * and status reports coalesced per task (the latest wins) until a session takes them.
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
