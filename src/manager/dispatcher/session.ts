/**
 * One agent's session on this dispatcher: the assignment stream for its node, built from a store
 * view plus a watch taken together, so no task change falls between the full set and the increments.
 */
import type {
  AssignmentMessage,
  DispatcherSession,
  SessionInfo,
  Task,
  TaskStatusReport,
} from "../../api/index.ts";
import type { Store, StoreEvent } from "../../store/types.ts";
import { completeAssignment, incrementalAssignment } from "./assignments.ts";

export interface SessionHooks {
  heartbeat(nodeId: string, sessionId: string): number;
  report(nodeId: string, reports: TaskStatusReport[]): Promise<void>;
  closed(nodeId: string, sessionId: string): void;
}

export class AgentSession implements DispatcherSession {
  private readonly abort = new AbortController();

  constructor(
    readonly info: SessionInfo,
    private readonly nodeId: string,
    private readonly store: Store,
    private readonly hooks: SessionHooks,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  async *assignments(): AsyncIterable<AssignmentMessage> {
    const { result, events } = this.store.viewAndWatch((tx) => tx.lookup("tasks", "node", this.nodeId), {
      tables: ["tasks"],
      signal: this.abort.signal,
    });
    const first = completeAssignment(result, this.nodeId);
    const known = new Map(first.tasks.map((t) => [t.ID, t.Version?.Index ?? 0]));
    yield first;
    const iterator = events[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || this.abort.signal.aborted) return;
        const event = next.value as StoreEvent<"tasks">;
        const change: { task: Task; deleted: boolean } = {
          task: event.object,
          deleted: event.kind === "delete",
        };
        const msg = incrementalAssignment(known, [change], this.nodeId);
        if (msg) yield msg;
      }
    } finally {
      await iterator.return?.();
    }
  }

  updateTaskStatus(reports: TaskStatusReport[]): Promise<void> {
    return this.hooks.report(this.nodeId, reports);
  }

  async heartbeat(): Promise<number> {
    return this.hooks.heartbeat(this.nodeId, this.info.sessionId);
  }

  close(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.hooks.closed(this.nodeId, this.info.sessionId);
  }
}
