/**
 * The local dockerd as engineapi sees it: a unix socket to forward requests to, plus small JSON
 * reads (`/version`, `/info`) that shoal edits before answering.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Agent, request } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { internal, type Logger, unavailable } from "../../base/index.ts";
import { requestMeta } from "../routing.ts";
import { proxyHijack } from "./hijack.ts";
import { proxyHttp } from "./http.ts";

/** How long a JSON read from dockerd may take before shoal gives up on it. */
const GET_TIMEOUT_MS = 30_000;

export class Dockerd {
  readonly socketPath: string;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly logger: Logger;
  private readonly sockets = new Set<Duplex>();

  constructor(socketPath: string, logger: Logger) {
    this.socketPath = socketPath;
    this.logger = logger;
  }

  /** GETs `path` (give it a version prefix, e.g. `/v1.41/info`) and decodes the JSON answer. */
  async getJson(path: string): Promise<unknown> {
    const { status, body } = await this.get(path);
    if (status !== 200) throw internal(`dockerd answered ${status} to GET ${path}: ${body}`);
    return JSON.parse(body) as unknown;
  }

  /** GETs `path`; resolves with the status, the headers and the body text. */
  get(path: string): Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, agent: this.agent, path, timeout: GET_TIMEOUT_MS });
      req.on("timeout", () => req.destroy(new Error(`timed out after ${GET_TIMEOUT_MS} ms`)));
      req.on("error", (err) =>
        reject(unavailable(`cannot reach the local dockerd at ${this.socketPath}: ${err.message}`)),
      );
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      req.end();
    });
  }

  /**
   * From a route: hands the request to dockerd after all, with the URL the client sent. Fastify has
   * already read the body, so it is re-sent from `request.body` (the raw text, see `app.ts`).
   */
  forward(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const raw = request.body;
    // No parsed body: fastify left the request stream unread, so it is piped as usual.
    const body = typeof raw === "string" || Buffer.isBuffer(raw) ? Buffer.from(raw) : undefined;
    this.proxy(request.raw, reply.raw, requestMeta(request.raw).originalUrl, body);
  }

  /** Streams a request shoal does not own to dockerd (`body`: when the request was already read). */
  proxy(req: IncomingMessage, res: ServerResponse, url: string, body?: Buffer): void {
    proxyHttp(req, res, url, { socketPath: this.socketPath, agent: this.agent, logger: this.logger }, body);
  }

  /** Splices an upgraded (hijacked) connection to dockerd. */
  hijack(req: IncomingMessage, client: Duplex, head: Buffer): void {
    proxyHijack(req, client, head, {
      socketPath: this.socketPath,
      logger: this.logger,
      track: (s) => {
        this.sockets.add(s);
        s.once("close", () => this.sockets.delete(s));
      },
    });
  }

  /** Closes pooled upstream connections and every hijacked socket. */
  close(): void {
    this.agent.destroy();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
