/**
 * The Engine API server: one plain node http server per listener (unix socket, optional TCP) that
 * decides per request who answers it.
 *
 * - Routes shoal owns (`routes/owned.ts`: `/_ping`, `/version`, `/info`, `/swarm*`, `/nodes*`,
 *   `/services*`, `/tasks*`, `/secrets*`, `/configs*`, `/shoal/*`, `POST /networks/create`,
 *   `GET /networks`, `GET|DELETE /networks/{id}`: routes/networks.ts forwards local ones) go to
 *   fastify, with the `/v1.NN` prefix stripped (the version is checked in an onRequest hook).
 * - Everything else is proxied byte-for-byte to the local dockerd (`proxy/http.ts`), and upgraded
 *   (hijacked) connections are spliced as raw sockets (`proxy/hijack.ts`).
 *
 * ## Adding routes (the pattern every resource group follows)
 * 1. One file per resource group: `routes/<group>.ts` exporting
 *    `registerXRoutes(app: EngineApp, deps: RouteDeps): void` (types in `routes/types.ts`). Register
 *    unversioned paths only (`app.get("/services/:id", ...)`); the prefix never reaches fastify.
 * 2. Add one line to `ROUTE_MODULES` in `app.ts`. Nothing else in engineapi changes.
 * 3. Handlers reach the cluster through `deps.backend.control()` (it throws Swarm's 503 text when this
 *    node is not a manager) and signal failures by throwing ShoalError; `errors.ts` maps codes to
 *    statuses in one table. Never set an error status by hand.
 * 4. Reply with `sendJson(reply, status, body)` / `sendEmpty(reply, status)` from `http/reply.ts`
 *    (exact `Content-Type: application/json`, no charset). Read bodies with `jsonBody(request, type)`,
 *    queries with `http/query.ts` (`boolValue`, `parseVersionParam`), `http/filters.ts`, and stream
 *    logs with `http/stdcopy.ts`.
 * 5. Swarm-scope paths without a route yet answer 501 `not implemented yet: <route>` on managers
 *    (`routes/not-implemented.ts`, a not-found fallback), so a new route simply takes over.
 * 6. A path dockerd also serves (e.g. `GET /networks`) must be listed in `routes/owned.ts` to reach
 *    fastify; requests you decide not to handle go on with `deps.dockerd.forward(request, reply)`.
 */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { chmod, chown } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyServerFactoryHandler } from "fastify";
import { failedPrecondition, type Logger } from "../base/index.ts";
import { buildApp } from "./app.ts";
import type { NodeBackend } from "./backend.ts";
import { Dockerd } from "./proxy/dockerd.ts";
import type { EngineApp } from "./routes/types.ts";
import { decideRoute, setRequestMeta } from "./routing.ts";

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
export const SHOAL_VERSION = "0.1.0";
const IDLE_KEEPALIVE_MS = 120_000;

export interface EngineApiOptions {
  /** The unix socket to serve on (a stale socket file is replaced; mode 0660). */
  socketPath: string;
  /** Also listen on TCP, e.g. `{ host: "127.0.0.1", port: 2375 }` (port 0: any free port). */
  tcp?: { host: string; port: number };
  /** The local dockerd's unix socket; default /var/run/docker.sock. */
  dockerSocket?: string;
  backend: NodeBackend;
  logger: Logger;
  /** Shown by `docker version`; default SHOAL_VERSION. */
  shoalVersion?: string;
  /** Group owning the socket (e.g. the `docker` group's gid, as dockerd does); default unchanged. */
  socketGid?: number;
}

/** Serves the Engine API; see the comment at the top of this file. */
export class EngineApiServer {
  private readonly options: EngineApiOptions;
  private readonly logger: Logger;
  private readonly dockerd: Dockerd;
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Socket>();
  private app: EngineApp | undefined;
  private fastifyHandler: FastifyServerFactoryHandler | undefined;
  private stopping: Promise<void> | undefined;
  /** Set once our listener bound the socket path: only then is the file ours to remove. */
  private ownsSocket = false;

  constructor(options: EngineApiOptions) {
    this.options = options;
    this.logger = options.logger.child({ module: "engineapi" });
    this.dockerd = new Dockerd(options.dockerSocket ?? DEFAULT_DOCKER_SOCKET, this.logger);
  }

  async start(): Promise<void> {
    if (this.app) throw failedPrecondition("engine API server already started");
    const deps = {
      backend: this.options.backend,
      dockerd: this.dockerd,
      logger: this.logger,
      shoalVersion: this.options.shoalVersion ?? SHOAL_VERSION,
    };
    const app = buildApp(deps, (handler) => {
      this.fastifyHandler = handler;
      return this.newServer();
    });
    this.app = app;
    await app.ready();
    this.servers.push(app.server);
    await removeStaleSocket(this.options.socketPath);
    await listen(app.server, this.options.socketPath);
    this.ownsSocket = true;
    await chmod(this.options.socketPath, 0o660);
    if (this.options.socketGid !== undefined)
      await chown(this.options.socketPath, process.getuid?.() ?? 0, this.options.socketGid);
    if (this.options.tcp) {
      const tcpServer = this.newServer();
      this.servers.push(tcpServer);
      await listen(tcpServer, this.options.tcp);
    }
    this.logger.info({ socket: this.options.socketPath, tcp: this.tcpAddress() }, "engine API listening");
  }

  /** The bound TCP address (useful with port 0), if listening on TCP. */
  tcpAddress(): { host: string; port: number } | undefined {
    const addr = this.servers[1]?.address();
    return addr && typeof addr === "object" ? { host: addr.address, port: addr.port } : undefined;
  }

  /** Closes the listeners, every client connection (hijacked ones too) and the socket file. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const socket of this.connections) socket.destroy();
    this.dockerd.close();
    await Promise.all(closed);
    await this.app?.close();
    if (this.ownsSocket) unlinkIfSocket(this.options.socketPath);
  }

  private newServer(): Server {
    // requestTimeout 0: uploads (build contexts, `docker load`) may take longer than node's 5 min.
    const server = createServer({ requestTimeout: 0 });
    // Go's client keeps idle connections for 90 s and reuses them without retrying POSTs: closing
    // them after node's default 5 s races with its next request ("EOF").
    server.keepAliveTimeout = IDLE_KEEPALIVE_MS;
    server.on("connection", (socket: Socket) => {
      this.connections.add(socket);
      socket.once("close", () => this.connections.delete(socket));
    });
    server.on("request", (req, res) => this.dispatch(req, res));
    const hijack = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.dockerd.hijack(req, socket, head);
    server.on("upgrade", hijack);
    server.on("connect", hijack);
    return server;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const originalUrl = req.url ?? "/";
    const route = decideRoute(req.method ?? "GET", originalUrl);
    if (!route.owned || !this.fastifyHandler) {
      this.dockerd.proxy(req, res, originalUrl);
      return;
    }
    setRequestMeta(req, { apiVersion: route.apiVersion, originalUrl });
    req.url = route.url;
    this.fastifyHandler(req, res);
  }
}

function listen(server: Server, where: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (typeof where === "string") server.listen(where, done);
    else server.listen(where.port, where.host, done);
  });
}

/** A socket file nobody answers on is left over from a crash: remove it. A live one is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw failedPrecondition(`${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) throw failedPrecondition(`another server is listening on ${path}`);
  unlinkSync(path);
}

function unlinkIfSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone
  }
}
