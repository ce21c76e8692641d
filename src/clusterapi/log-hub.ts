/**
 * Log streaming for `docker service logs`, manager side. Workers do not listen on 2377 (as in Swarm),
 * so a manager reaches a node's logs through the node's own session: it sends a `logs` subscription
 * down the session stream, and the agent opens a publish stream back with the lines. The hub pairs
 * the two by subscription ID and checks that lines come from the node that was asked.
 */
import type { LogLine, LogRequest, TaskLogSource } from "../api/index.ts";
import type { Ids, Logger } from "../base/index.ts";
import { ErrorCode, notFound, ShoalError, unavailable } from "../base/index.ts";
import type { SessionDownMessage } from "./protocol.ts";
import { AsyncQueue } from "./queue.ts";

interface NodeChannel {
  sessionId: string;
  send(msg: SessionDownMessage): void;
}

interface Subscription {
  nodeId: string;
  queue: AsyncQueue<LogLine>;
  /** Set once the node's publish stream arrives; ends it early when the subscriber goes away. */
  cancelPublisher?: () => void;
}

/** What the publish route feeds. */
export interface LogPublisher {
  line(line: LogLine): void;
  end(err?: unknown): void;
}

export class LogHub {
  private readonly channels = new Map<string, NodeChannel>();
  private readonly subs = new Map<string, Subscription>();
  /** Nodes served in-process (a manager's own agent): no session stream, lines come directly. */
  private readonly locals = new Map<string, TaskLogSource>();

  constructor(private readonly deps: { ids: Ids; logger: Logger }) {}

  /** Registers a node's live session stream; the returned function detaches it. */
  attach(nodeId: string, sessionId: string, send: (msg: SessionDownMessage) => void): () => void {
    this.channels.set(nodeId, { sessionId, send });
    return () => {
      if (this.channels.get(nodeId)?.sessionId !== sessionId) return;
      this.channels.delete(nodeId);
      for (const [id, sub] of this.subs) {
        if (sub.nodeId !== nodeId) continue;
        sub.queue.end(unavailable(`node ${nodeId} disconnected`));
        sub.cancelPublisher?.();
        this.subs.delete(id);
      }
    };
  }

  /**
   * Serves a node's logs from an in-process source (the manager's own agent), so other managers
   * can relay them too; the returned function detaches it.
   */
  attachLocal(nodeId: string, source: TaskLogSource): () => void {
    this.locals.set(nodeId, source);
    return () => {
      if (this.locals.get(nodeId) === source) this.locals.delete(nodeId);
    };
  }

  /** True when the node has a session on this manager (or is served in-process). */
  connected(nodeId: string): boolean {
    return this.channels.has(nodeId) || this.locals.has(nodeId);
  }

  /**
   * The node's log lines for the request. Ends when the node has sent everything (not following),
   * when the signal aborts, or with Unavailable when the node disconnects or has no session here.
   */
  async *subscribe(nodeId: string, request: LogRequest, signal: AbortSignal): AsyncIterable<LogLine> {
    const local = this.locals.get(nodeId);
    if (local) {
      yield* local.logs(request, signal);
      return;
    }
    const channel = this.channels.get(nodeId);
    if (!channel) throw unavailable(`node ${nodeId} is not connected to this manager`);
    const subscriptionId = this.deps.ids.newId();
    const sub: Subscription = { nodeId, queue: new AsyncQueue<LogLine>() };
    this.subs.set(subscriptionId, sub);
    const onAbort = () => sub.queue.end();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      channel.send({ type: "logs", subscriptionId, request });
      yield* sub.queue;
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (this.subs.delete(subscriptionId)) {
        this.channels.get(nodeId)?.send({ type: "logsCancel", subscriptionId });
        sub.cancelPublisher?.();
      }
    }
  }

  /** Called by the publish route for the node identified by its certificate. */
  publisher(subscriptionId: string, nodeId: string, cancel: () => void): LogPublisher {
    const sub = this.subs.get(subscriptionId);
    if (!sub) throw notFound(`log subscription ${subscriptionId} not found`);
    if (sub.nodeId !== nodeId) {
      throw new ShoalError(
        ErrorCode.PermissionDenied,
        "Permission denied: subscription belongs to another node",
      );
    }
    sub.cancelPublisher = cancel;
    return {
      line: (line) => sub.queue.push(line),
      end: (err) => {
        if (err !== undefined) this.deps.logger.debug({ "node.id": nodeId, err }, "log source failed");
        this.subs.delete(subscriptionId);
        sub.queue.end(err);
      },
    };
  }
}
