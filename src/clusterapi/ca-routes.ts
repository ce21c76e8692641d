/**
 * The CA endpoints: the root certificate (public; the joiner pins it by the token), the first
 * certificate for a joiner (gated by a join token, compared in constant time), and renewal
 * (authenticated by the current certificate; the role comes from the store).
 */
import type { ServerHttp2Stream } from "node:http2";
import { isIP } from "node:net";
import type { Ids, Logger } from "../base/index.ts";
import { invalidArgument, notFound, ShoalError } from "../base/index.ts";
import type { NodeIdentity, NodeRole } from "../ca/index.ts";
import { sameToken } from "../ca/index.ts";
import type { CertificateAuthority, ClusterSecurity, NodeRegistry } from "./deps.ts";
import type { IssueResponse, RenewResponse, RootCAResponse } from "./protocol.ts";
import { optStr, readJsonBody, sendJson, str } from "./wire.ts";

export interface CaRouteDeps {
  security: ClusterSecurity;
  authority: CertificateAuthority;
  registry: NodeRegistry;
  ids: Ids;
  logger: Logger;
}

/** SwarmKit's limit on node ID collisions before giving up. */
const MAX_ID_ATTEMPTS = 3;
const AVAILABILITIES = ["active", "pause", "drain"] as const;

export function handleRootCA(stream: ServerHttp2Stream, deps: CaRouteDeps): void {
  const body: RootCAResponse = { certificate: deps.authority.rootCAPem() };
  sendJson(stream, body);
}

function roleForToken(token: string, tokens: { worker: string; manager: string }): NodeRole | undefined {
  // Both comparisons always run, so timing does not tell which token was close.
  const manager = sameToken(token, tokens.manager);
  const worker = sameToken(token, tokens.worker);
  if (manager) return "manager";
  return worker ? "worker" : undefined;
}

export async function handleIssue(stream: ServerHttp2Stream, deps: CaRouteDeps): Promise<void> {
  const req = await readJsonBody(stream);
  const csr = str(req, "csr");
  const availability = optStr(req, "availability") ?? "active";
  if (!(AVAILABILITIES as readonly string[]).includes(availability)) {
    throw invalidArgument(`invalid availability ${availability}`);
  }
  const role = roleForToken(typeof req.token === "string" ? req.token : "", deps.security.joinTokens());
  if (!role) throw invalidArgument("A valid join token is necessary to join this cluster");
  const clusterId = deps.security.clusterId();
  for (let attempt = 1; ; attempt++) {
    const nodeId = deps.ids.newId();
    const certificate = await deps.authority.sign(csr, { nodeId, role, clusterId, ...sans(role, req) });
    try {
      await deps.registry.createNode({ nodeId, role, availability: availability as NewAvailability });
    } catch (err) {
      if (ShoalError.is(err, "AlreadyExists") && attempt < MAX_ID_ATTEMPTS) continue;
      throw err;
    }
    await deps.registry.certificateIssued(nodeId, certificate);
    deps.logger.info({ "node.id": nodeId, role }, "node joined; certificate issued");
    const body: IssueResponse = { nodeId, role, certificate, rootCA: deps.authority.rootCAPem() };
    sendJson(stream, body);
    return;
  }
}

type NewAvailability = (typeof AVAILABILITIES)[number];

/**
 * A manager's certificate names its advertise address as an IP SAN: etcd's peer TLS verifies the
 * server by it and checks a client's source address against it. Workers get none (they never
 * speak to etcd), so a worker cannot obtain a certificate naming an address.
 */
function sans(role: NodeRole, req: Record<string, unknown>): { ips?: string[] } {
  const addr = optStr(req, "advertiseAddr");
  return role === "manager" && addr && isIP(addr) ? { ips: [addr] } : {};
}

export async function handleRenew(
  stream: ServerHttp2Stream,
  peer: NodeIdentity,
  deps: CaRouteDeps,
): Promise<void> {
  const req = await readJsonBody(stream);
  const csr = str(req, "csr");
  const role = await deps.registry.roleOf(peer.nodeId);
  if (!role) throw notFound(`node ${peer.nodeId} not found when attempting to renew certificate`);
  const certificate = await deps.authority.sign(csr, {
    nodeId: peer.nodeId,
    role,
    clusterId: deps.security.clusterId(),
    ...sans(role, req),
  });
  await deps.registry.certificateIssued(peer.nodeId, certificate);
  deps.logger.info({ "node.id": peer.nodeId, role }, "certificate renewed");
  const body: RenewResponse = { role, certificate, rootCA: deps.authority.rootCAPem() };
  sendJson(stream, body);
}
