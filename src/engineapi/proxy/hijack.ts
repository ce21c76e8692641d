/**
 * Hijacked connections (`POST /containers/{id}/attach`, `POST /exec/{id}/start` with
 * `Connection: Upgrade` + `Upgrade: tcp`, BuildKit's `/session` and `/grpc`, CONNECT): after the
 * request head the HTTP framing ends and the socket carries raw stdin/stdout. We replay the request
 * head to dockerd and splice the two sockets.
 *
 * Half-close matters: the CLI shuts its write side as soon as stdin is done (immediately for
 * `docker run` without `-i`) and keeps reading output until dockerd closes. So each direction ends
 * on its own (`pipe` ends the other side's writable half; both sockets allow half-open) and a socket
 * is destroyed only when both directions are done or either side fails.
 */
import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../../base/index.ts";

export interface HijackOptions {
  socketPath: string;
  logger: Logger;
  /** Called with both sockets so that stop() can destroy them. */
  track: (socket: Duplex) => void;
}

function requestHead(req: IncomingMessage): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

/**
 * Body bytes node's parser consumed into `req`. Node 20 signals the upgrade right after the head,
 * so the body (exec start sends `{"Detach":false,"Tty":true}`) comes in `head` and on the raw
 * socket; should a parser read a Content-Length body into `req` first, it is replayed from here.
 * Read synchronously: nothing may flow between this and the pipes set up below.
 */
function bufferedBody(req: IncomingMessage): Buffer[] {
  const chunks: Buffer[] = [];
  for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
    chunks.push(chunk);
  }
  return chunks;
}

const BAD_GATEWAY_BODY = (socketPath: string) =>
  JSON.stringify({ message: `cannot reach the local dockerd at ${socketPath}` });

export function proxyHijack(req: IncomingMessage, client: Duplex, head: Buffer, opts: HijackOptions): void {
  const upstream: Socket = connect({ path: opts.socketPath, allowHalfOpen: true });
  opts.track(client);
  opts.track(upstream);
  upstream.write(requestHead(req));
  for (const chunk of bufferedBody(req)) upstream.write(chunk);
  if (head.length > 0) upstream.write(head);

  upstream.on("connect", () => upstream.setNoDelay(true));
  upstream.on("error", (err) => {
    opts.logger.debug({ err: err.message, url: req.url }, "hijack: dockerd side failed");
    // dockerd unreachable before any answer: reply in HTTP so the CLI shows why.
    if (upstream.bytesRead === 0 && client.writable) {
      const body = BAD_GATEWAY_BODY(opts.socketPath);
      const head502 = `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      client.unpipe(upstream);
      client.end(head502 + body);
      closeAfterFlush(client);
    } else client.destroy();
  });
  client.on("error", (err) => {
    opts.logger.debug({ err: err.message, url: req.url }, "hijack: client side failed");
    upstream.destroy();
    client.destroy();
  });
  client.pipe(upstream);
  upstream.pipe(client);
  // Either side fully gone: deliver what is buffered towards the other, then close it.
  upstream.once("close", () => closeAfterFlush(client));
  client.once("close", () => closeAfterFlush(upstream));
}

/** end() then destroy once everything written has been flushed (net.Socket#destroySoon). */
function closeAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end();
}
