/**
 * The dispatcher over the network. A session is one long-lived POST: the agent sends its node
 * description, the manager answers with an NDJSON stream (session info, then assignment messages,
 * and log subscriptions). Heartbeats and status reports are unary calls naming the session; the
 * node is always the certificate's CN, never a field of the request.
 */
import { constants, type ServerHttp2Stream } from "node:http2";
import type { DispatcherConnector, DispatcherSession } from "../api/index.ts";
import type { Logger } from "../base/index.ts";
import { ErrorCode, notFound, ShoalError, unavailable } from "../base/index.ts";
import type { NodeIdentity } from "../ca/index.ts";
import { decodeDescription, decodeLogRequest, decodeReports, decodeWireLine } from "./decode.ts";
import type { NodeRegistry } from "./deps.ts";
import type { LogHub } from "./log-hub.ts";
import { readNdjson, writeNdjson } from "./ndjson.ts";
import type { HeartbeatResponse, LogStreamMessage, SessionDownMessage } from "./protocol.ts";
import { fromWireLine, toWireLine } from "./protocol.ts";
import { asObject, readJsonBody, remoteAddress, sendJson, str, toWireError } from "./wire.ts";

export interface SessionRouteDeps {
  dispatcher: DispatcherConnector;
  logs: LogHub;
  registry: NodeRegistry;
  logger: Logger;
}

const NDJSON = { ":status": 200, "content-type": "application/x-ndjson" } as const;

export class SessionRoutes {
  private readonly live = new Map<string, { nodeId: string; session: DispatcherSession }>();

  constructor(private readonly deps: SessionRouteDeps) {}

  /** Closes every session (server shutdown). */
  closeAll(): void {
    for (const { session } of this.live.values()) session.close();
    this.live.clear();
  }

  async session(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const req = await readJsonBody(stream);
    const session = await this.deps.dispatcher.openSession(peer.nodeId, decodeDescription(req.description));
    const { sessionId, heartbeatPeriodMs } = session.info;
    this.live.set(sessionId, { nodeId: peer.nodeId, session });
    this.deps.registry.sessionOpened?.(peer.nodeId, remoteAddress(stream));
    let writing: Promise<void> = Promise.resolve();
    // Writes are chained so messages keep their order; a failed write means the stream is gone,
    // and its close handler cleans up.
    const send = (msg: SessionDownMessage): void => {
      writing = writing.then(() => writeNdjson(stream, msg)).catch(() => undefined);
    };
    const detach = this.deps.logs.attach(peer.nodeId, sessionId, send);
    const cleanup = () => {
      detach();
      this.live.delete(sessionId);
      session.close();
    };
    stream.once("close", cleanup);
    if (stream.destroyed || stream.closed) {
      cleanup(); // the agent went away while the session was being opened
      return;
    }
    stream.respond(NDJSON);
    send({ type: "session", sessionId, heartbeatPeriodMs });
    try {
      for await (const message of session.assignments()) {
        send({ type: "assignments", message });
        await writing;
      }
      send({ type: "error", error: toWireError(unavailable("session ended; register again")) });
    } catch (err) {
      send({ type: "error", error: toWireError(err) });
    }
    await writing;
    cleanup();
    if (!stream.destroyed) stream.end();
  }

  private owned(sessionId: string, peer: NodeIdentity): DispatcherSession {
    const entry = this.live.get(sessionId);
    if (!entry) throw notFound("session not found; register again");
    if (entry.nodeId !== peer.nodeId) {
      throw new ShoalError(ErrorCode.PermissionDenied, "Permission denied: session belongs to another node");
    }
    return entry.session;
  }

  async heartbeat(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const req = await readJsonBody(stream);
    const periodMs = await this.owned(str(req, "sessionId"), peer).heartbeat();
    const body: HeartbeatResponse = { periodMs };
    sendJson(stream, body);
  }

  async status(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const req = await readJsonBody(stream);
    const session = this.owned(str(req, "sessionId"), peer);
    await session.updateTaskStatus(decodeReports(req.reports));
    sendJson(stream, {});
  }

  /** A node's answer to a log subscription: NDJSON up, `{}` down once it is all in. */
  async publishLogs(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const messages = readNdjson(stream)[Symbol.asyncIterator]();
    const first = await messages.next();
    const header = asObject(first.done ? undefined : first.value, "publish header");
    const publisher = this.deps.logs.publisher(str(header, "subscriptionId"), peer.nodeId, () =>
      stream.close(constants.NGHTTP2_CANCEL),
    );
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done) break;
        const msg = asObject(next.value, "publish message");
        if (msg.type === "line") publisher.line(fromWireLine(decodeWireLine(msg.line)));
        else if (msg.type === "error") {
          const e = asObject(msg.error, "error");
          throw new ShoalError(ErrorCode.Unavailable, `log source failed: ${String(e.message)}`);
        }
      }
      publisher.end();
      sendJson(stream, {});
    } catch (err) {
      publisher.end(err instanceof ShoalError ? err : unavailable("log stream from the node broke"));
      throw err;
    }
  }

  /** Manager → manager: the logs of a node whose session is on this manager. */
  async subscribeLogs(stream: ServerHttp2Stream): Promise<void> {
    const req = await readJsonBody(stream);
    const nodeId = str(req, "nodeId");
    const request = decodeLogRequest(req.request);
    const ac = new AbortController();
    stream.once("close", () => ac.abort());
    if (!this.deps.logs.connected(nodeId))
      throw unavailable(`node ${nodeId} is not connected to this manager`);
    const lines = this.deps.logs.subscribe(nodeId, request, ac.signal)[Symbol.asyncIterator]();
    stream.respond(NDJSON);
    try {
      for (let next = await lines.next(); !next.done; next = await lines.next()) {
        const msg: LogStreamMessage = { type: "line", line: toWireLine(next.value) };
        await writeNdjson(stream, msg);
      }
    } catch (err) {
      if (!stream.destroyed)
        await writeNdjson(stream, { type: "error", error: toWireError(err) }).catch(() => undefined);
    } finally {
      await lines.return?.();
    }
    if (!stream.destroyed) stream.end();
  }
}
