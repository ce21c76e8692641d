/**
 * Streams one HTTP request to dockerd and its answer back, unbuffered in both directions: status,
 * status text and headers (case, order, duplicates) are kept, bodies are piped as they come (logs,
 * events, pull progress, build contexts, `docker cp` archives), and a client that goes away aborts
 * the upstream request.
 */
import { type Agent, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Logger } from "../../base/index.ts";

export interface UpstreamOptions {
  /** dockerd's unix socket. */
  socketPath: string;
  agent: Agent;
  logger: Logger;
}

/** The client already got `100 Continue` from our server; dockerd must not send another. */
const DROPPED_REQUEST_HEADERS = new Set(["expect"]);

function forwardedHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (!DROPPED_REQUEST_HEADERS.has(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

function badGateway(res: ServerResponse, opts: UpstreamOptions, err: Error): void {
  const message = `cannot reach the local dockerd at ${opts.socketPath}: ${err.message}`;
  opts.logger.error({ err: err.message, socket: opts.socketPath }, "dockerd unreachable");
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(502, { "Content-Type": "application/json" });
  res.end(`${JSON.stringify({ message })}\n`);
}

/**
 * Proxies `req` to dockerd as `url`. With `body`, that buffer is sent instead of reading `req` (the
 * route already consumed it); otherwise `req` is piped.
 */
export function proxyHttp(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  opts: UpstreamOptions,
  body?: Buffer,
): void {
  const headers = forwardedHeaders(req.rawHeaders);
  if (body !== undefined) setContentLength(headers, body.length);
  const upstream = request({
    socketPath: opts.socketPath,
    agent: opts.agent,
    method: req.method,
    path: url,
    headers,
    setHost: false,
  });
  upstream.on("response", (answer) => relayResponse(answer, res));
  upstream.on("error", (err) => {
    if (!res.writableEnded) badGateway(res, opts, err);
  });
  // The client went away (or the server is stopping) before the answer was complete.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  if (body !== undefined) upstream.end(body);
  else req.pipe(upstream);
}

function setContentLength(headers: string[], length: number): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!.toLowerCase();
    if (name === "content-length" || name === "transfer-encoding") headers.splice(i, 2);
  }
  headers.push("Content-Length", String(length));
}

function relayResponse(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
  // Streaming endpoints (wait, events, logs -f) must see their headers before the first body byte.
  res.flushHeaders();
  answer.pipe(res);
  answer.on("error", (err) => res.destroy(err));
  answer.on("aborted", () => res.destroy());
}
