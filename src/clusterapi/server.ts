/**
 * The cluster API server on :2377: HTTP/2 over mutual TLS. The TLS layer asks every client for a
 * certificate but accepts connections without one (SwarmKit's VerifyClientCertIfGiven), because
 * joiners have none yet; each route then authorizes from the verified peer certificate (chain to the
 * cluster root, O = cluster ID, OU in the route's roles, not removed). Served by every manager.
 */
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { DispatcherConnector } from "../api/index.ts";
import type { Ids, Logger } from "../base/index.ts";
import { asShoalError, notFound, ShoalError } from "../base/index.ts";
import type { NodeCredentials, NodeIdentity, TlsInfo } from "../ca/index.ts";
import { authorizeNode, trustedRoots } from "../ca/index.ts";
import { type CaRouteDeps, handleIssue, handleRenew, handleRootCA } from "./ca-routes.ts";
import type { CertificateAuthority, ClusterSecurity, ManagerMembership, NodeRegistry } from "./deps.ts";
import type { LogHub } from "./log-hub.ts";
import {
  type ApiPath,
  type EtcdJoinResponse,
  type ManagersResponse,
  PATHS,
  ROUTE_ROLES,
} from "./protocol.ts";
import { SessionRoutes } from "./session-routes.ts";
import { asObject, pathOf, peerIdentity, readJsonBody, sendError, sendJson, str } from "./wire.ts";

export interface ClusterApiServerDeps {
  /** This manager's own node certificate, key and trust root. */
  credentials: NodeCredentials;
  security: ClusterSecurity;
  authority: CertificateAuthority;
  registry: NodeRegistry;
  /** Serves agents' sessions (the manager's Dispatcher). */
  dispatcher: DispatcherConnector;
  logs: LogHub;
  /** Manager membership (etcd join, manager list); without it those routes are NotImplemented. */
  membership?: ManagerMembership;
  ids: Ids;
  logger: Logger;
}

/** How long a connection may stay silent; agents heartbeat every few seconds. */
const IDLE_TIMEOUT_MS = 5 * 60_000;

export class ClusterApiServer {
  private readonly server: Http2SecureServer;
  private readonly sessions = new Set<Http2Session>();
  private readonly routes: SessionRoutes;
  private readonly caDeps: CaRouteDeps;
  private stopped = false;

  constructor(private readonly deps: ClusterApiServerDeps) {
    const logger = deps.logger;
    this.caDeps = { ...deps, logger };
    this.routes = new SessionRoutes({ ...deps, logger });
    this.server = createSecureServer({
      ...tlsOptions(deps.credentials),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      allowHTTP1: false,
    });
    this.server.setTimeout(IDLE_TIMEOUT_MS);
    this.server.on("session", (s) => {
      this.sessions.add(s);
      s.once("close", () => this.sessions.delete(s));
    });
    this.server.on("stream", (stream, headers) => void this.dispatch(stream, headers));
    this.server.on("tlsClientError", (err) => logger.debug({ err }, "TLS handshake failed"));
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** After a renewal or a root rotation: new connections use the new certificate and trust root. */
  updateCredentials(credentials: NodeCredentials): void {
    this.server.setSecureContext(tlsOptions(credentials));
  }

  /** Ends every session and connection; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.routes.closeAll();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.destroy();
    if (this.server.listening) await closed;
  }

  /** Every request ends here: errors become wire errors, never a crashed daemon. */
  private async dispatch(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    stream.on("error", () => undefined); // a reset by the peer is normal; the close handlers clean up
    try {
      await this.route(stream, headers);
    } catch (err) {
      const e = asShoalError(err);
      // A peer that hangs up mid-call is not a server fault.
      const level = e.code === "Internal" && !stream.destroyed ? "error" : "debug";
      this.deps.logger[level]({ err: e, path: pathOf(headers) }, "cluster API call failed");
      sendError(stream, e);
    }
  }

  private async route(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const path = pathOf(headers) as ApiPath;
    if (!Object.hasOwn(ROUTE_ROLES, path)) throw notFound(`unknown cluster API path ${path}`);
    const method = headers[":method"];
    const want = path === PATHS.rootCA ? "GET" : "POST";
    if (method !== want) throw new ShoalError("InvalidArgument", `${path} takes ${want}`);
    if (path === PATHS.rootCA) return handleRootCA(stream, this.caDeps);
    if (path === PATHS.issue) return handleIssue(stream, this.caDeps);
    const peer = this.authorize(stream, path);
    switch (path) {
      case PATHS.renew:
        return handleRenew(stream, peer, this.caDeps);
      case PATHS.session:
        return this.routes.session(stream, peer);
      case PATHS.heartbeat:
        return this.routes.heartbeat(stream, peer);
      case PATHS.status:
        return this.routes.status(stream, peer);
      case PATHS.logsPublish:
        return this.routes.publishLogs(stream, peer);
      case PATHS.logsSubscribe:
        return this.routes.subscribeLogs(stream);
      case PATHS.etcdJoin:
        return this.etcdJoin(stream, peer);
      case PATHS.managers:
        return this.managers(stream, peer);
    }
  }

  private membership(): ManagerMembership {
    const m = this.deps.membership;
    if (!m) throw new ShoalError("NotImplemented", "this manager does not manage memberships");
    return m;
  }

  /** The peer is a manager by its certificate; its etcd member's name is its node ID. */
  private async etcdJoin(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const req = await readJsonBody(stream);
    const res: EtcdJoinResponse = await this.membership().addManager(
      peer.nodeId,
      str(req, "peerUrl"),
      str(req, "addr"),
    );
    sendJson(stream, res);
  }

  private async managers(stream: ServerHttp2Stream, peer: NodeIdentity): Promise<void> {
    const { registry, security } = this.deps;
    const info = tlsInfoOf(await readJsonBody(stream));
    if (info) await registry.reportTlsInfo?.(peer.nodeId, info);
    const role = await registry.roleOf(peer.nodeId);
    const roots = security.trustRoots?.();
    const res: ManagersResponse = {
      managers: this.membership().managerAddrs(),
      ...(role ? { role } : {}),
      ...(roots ? { rootCA: roots.root } : {}),
      ...(roots?.next ? { nextRootCA: roots.next } : {}),
      ...(registry.mustRenew?.(peer.nodeId) ? { rotate: true } : {}),
    };
    sendJson(stream, res);
  }

  private authorize(stream: ServerHttp2Stream, path: ApiPath): NodeIdentity {
    const { security } = this.deps;
    return authorizeNode(peerIdentity(stream), {
      clusterId: security.clusterId(),
      roles: ROUTE_ROLES[path] ?? [],
      isRemoved: (id) => security.isRemoved(id),
    });
  }
}

/** During a root rotation the server trusts both roots (`trustedRoots`). */
/** The reported TLSInfo, each field checked (the peer is untrusted). */
function tlsInfoOf(req: Record<string, unknown>): TlsInfo | undefined {
  if (req.tlsInfo === undefined) return undefined;
  const info = asObject(req.tlsInfo, "tlsInfo");
  return {
    TrustRoot: str(info, "TrustRoot"),
    CertIssuerSubject: str(info, "CertIssuerSubject"),
    CertIssuerPublicKey: str(info, "CertIssuerPublicKey"),
  };
}

function tlsOptions(c: NodeCredentials): { cert: string; key: string; ca: string } {
  return { cert: c.certPem, key: c.keyPem, ca: trustedRoots(c) };
}
