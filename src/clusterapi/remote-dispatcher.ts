/**
 * The agent's side of the dispatcher over the network: `RemoteDispatcherConnector` opens a session
 * to a manager's cluster API and presents it as the same `DispatcherSession` the in-process
 * Dispatcher gives, so the Agent does not know the difference. Reconnecting is the Agent's job (it
 * opens a new session when one fails). Log subscriptions arriving on the session are answered from
 * the node's `TaskLogSource` on separate upload streams.
 */
import type { ClientHttp2Stream } from "node:http2";
import type {
  AssignmentMessage,
  DispatcherConnector,
  DispatcherSession,
  LogRequest,
  NodeDescription,
  SessionInfo,
  TaskLogSource,
  TaskStatusReport,
} from "../api/index.ts";
import type { Logger } from "../base/index.ts";
import { ErrorCode, invalidArgument, ShoalError, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { MANAGER_OU, parseNodeCertificate, trustedRoots } from "../ca/index.ts";
import { ClusterApiClient, withDeadline } from "./client.ts";
import { publishLogs } from "./log-publish.ts";
import { readNdjson } from "./ndjson.ts";
import { DEFAULT_CALL_TIMEOUT_MS, PATHS, type SessionDownMessage } from "./protocol.ts";
import { AsyncQueue } from "./queue.ts";

export interface RemoteDispatcherOptions {
  /** A manager's cluster API address, host:port; a function is asked again for every session (failover). */
  addr: string | (() => string);
  /** Read at every new session, so a renewed certificate is used from the next session on. */
  credentials: () => NodeCredentials;
  /** Answers the managers' log subscriptions; without one they fail with Unavailable. */
  logSource?: TaskLogSource;
  /**
   * Told the cluster's manager addresses each time a session opens (asked of the manager that
   * took the session), so the node's failover list follows promotions, demotions and new managers.
   */
  onManagers?: (addrs: string[]) => void;
  logger: Logger;
  callTimeoutMs?: number;
}

export class RemoteDispatcherConnector implements DispatcherConnector {
  constructor(private readonly options: RemoteDispatcherOptions) {}

  async openSession(nodeId: string, description: NodeDescription): Promise<DispatcherSession> {
    const creds = this.options.credentials();
    const certNode = parseNodeCertificate(creds.certPem).nodeId;
    if (certNode !== nodeId)
      throw invalidArgument(`node ${nodeId} holds the certificate of node ${certNode}`);
    const addr = typeof this.options.addr === "string" ? this.options.addr : this.options.addr();
    const client = new ClusterApiClient(
      addr,
      {
        rootCAPem: trustedRoots(creds),
        certPem: creds.certPem,
        keyPem: creds.keyPem,
        servername: MANAGER_OU,
      },
      this.options.callTimeoutMs,
    );
    try {
      const stream = await client.openStream(PATHS.session, { description });
      const messages = readNdjson(stream)[Symbol.asyncIterator]();
      const timeoutMs = this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
      const first = (await withDeadline(messages.next(), timeoutMs, () => stream.close())).value as
        | SessionDownMessage
        | undefined;
      if (first?.type !== "session") throw unavailable("dispatcher session did not start");
      const info = { sessionId: first.sessionId, heartbeatPeriodMs: first.heartbeatPeriodMs };
      this.refreshManagers(client);
      return new RemoteSession(info, client, stream, messages, this.options);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Best effort: a failure keeps the list the node has. */
  private refreshManagers(client: ClusterApiClient): void {
    const { onManagers, logger } = this.options;
    if (!onManagers) return;
    void client
      .call(PATHS.managers, {})
      .then((reply) => {
        const managers = (reply as { managers?: unknown }).managers;
        if (Array.isArray(managers) && managers.every((m) => typeof m === "string") && managers.length > 0)
          onManagers(managers);
      })
      .catch((err: unknown) => logger.debug({ err }, "could not refresh the manager list"));
  }
}

class RemoteSession implements DispatcherSession {
  private readonly queue = new AsyncQueue<AssignmentMessage>();
  private readonly logSubs = new Map<string, AbortController>();
  private closed = false;

  constructor(
    readonly info: SessionInfo,
    private readonly client: ClusterApiClient,
    private readonly stream: ClientHttp2Stream,
    messages: AsyncIterator<unknown>,
    private readonly options: RemoteDispatcherOptions,
  ) {
    // The pump ends the queue on every path; nothing else awaits it.
    void this.pump(messages);
  }

  assignments(): AsyncIterable<AssignmentMessage> {
    return this.queue;
  }

  async updateTaskStatus(reports: TaskStatusReport[]): Promise<void> {
    await this.client.call(PATHS.status, { sessionId: this.info.sessionId, reports });
  }

  async heartbeat(): Promise<number> {
    const reply = (await this.client.call(PATHS.heartbeat, { sessionId: this.info.sessionId })) as {
      periodMs?: unknown;
    };
    if (typeof reply.periodMs !== "number") throw unavailable("malformed heartbeat reply");
    return reply.periodMs;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.logSubs.values()) ac.abort();
    this.logSubs.clear();
    if (!this.stream.destroyed) this.stream.close();
    this.client.close();
    this.queue.end();
  }

  /** Reads the session stream: assignments go to the Agent, log subscriptions are served here. */
  private async pump(messages: AsyncIterator<unknown>): Promise<void> {
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done) throw unavailable("dispatcher session ended");
        this.handle(next.value as SessionDownMessage);
      }
    } catch (err) {
      this.queue.end(this.closed ? undefined : asSessionError(err));
      this.close();
    }
  }

  private handle(msg: SessionDownMessage): void {
    switch (msg.type) {
      case "assignments":
        this.queue.push(msg.message);
        return;
      case "logs":
        this.serveLogs(msg.subscriptionId, msg.request);
        return;
      case "logsCancel":
        this.logSubs.get(msg.subscriptionId)?.abort();
        return;
      case "error":
        throw new ShoalError(msg.error.code, msg.error.message);
      default:
        return; // unknown messages from a newer manager are ignored
    }
  }

  private serveLogs(subscriptionId: string, request: LogRequest): void {
    const ac = new AbortController();
    this.logSubs.set(subscriptionId, ac);
    const { logSource, logger } = this.options;
    // publishLogs reports its own failures to the manager; here they are only logged.
    void publishLogs(this.client, subscriptionId, request, logSource, ac.signal)
      .catch((err: unknown) => logger.debug({ err, subscriptionId }, "log subscription ended with an error"))
      .finally(() => this.logSubs.delete(subscriptionId));
  }
}

function asSessionError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  return new ShoalError(ErrorCode.Unavailable, "dispatcher session broke", { cause: err });
}
