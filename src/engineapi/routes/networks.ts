/**
 * Networks: dockerd keeps local-scope networks (bridge, macvlan, host...). Swarm-scope ones
 * (`Driver: overlay`, or `Scope: swarm`) belong to the cluster, as moby redirects them to its
 * cluster backend. On a manager, `GET /networks` merges the swarm's networks with dockerd's (as
 * moby's getNetworksList does), and inspect/remove answer for swarm networks and forward the rest.
 * Anywhere else (no swarm, worker) everything but a swarm create goes to dockerd unchanged.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Network } from "../../api/index.ts";
import { alreadyExists, asShoalError, ErrorCode, notFound, ShoalError } from "../../base/index.ts";
import type { ControlApi, NetworkCreateRequest } from "../../manager/controlapi/index.ts";
import { jsonBody, parseJsonText, rawBody, type Shape, shape } from "../http/body.ts";
import { filtersAsRecord, parseFilters } from "../http/filters.ts";
import { formValue } from "../http/query.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import { requestMeta } from "../routing.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Params = { id: string };

const { string, bool, any, map, array, struct } = shape;

const CREATE_REQUEST: Shape & { kind: "struct" } = struct("types.NetworkCreateRequest", {
  Name: string,
  CheckDuplicate: bool,
  Driver: string,
  Scope: string,
  EnableIPv6: bool,
  IPAM: struct("network.IPAM", {
    Driver: string,
    Options: map(string),
    Config: array(
      struct("network.IPAMConfig", {
        Subnet: string,
        IPRange: string,
        Gateway: string,
        AuxiliaryAddresses: map(string),
      }),
      "[]network.IPAMConfig",
    ),
  }),
  Internal: bool,
  Attachable: bool,
  Ingress: bool,
  ConfigOnly: bool,
  ConfigFrom: struct("network.ConfigReference", { Network: string }),
  Options: map(string),
  Labels: map(string),
  Extra: any,
}) as Shape & { kind: "struct" };

/** True when a create request is for a swarm-scope network. Bad JSON → 400 from parseJsonText. */
export function isSwarmScopeCreate(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const { Driver, Scope } = body as { Driver?: unknown; Scope?: unknown };
  return Driver === "overlay" || Scope === "swarm";
}

/**
 * The control API when this node is an active manager; undefined otherwise (dockerd answers).
 * A manager without a leader lists only dockerd's networks too: moby's getNetworksList ignores
 * the cluster's error.
 */
function managerControl(deps: RouteDeps): ControlApi | undefined {
  try {
    return deps.backend.control();
  } catch (err) {
    const code = asShoalError(err).code;
    if (code === ErrorCode.Unavailable || code === ErrorCode.LostQuorum) return undefined;
    throw err;
  }
}

function forward(deps: RouteDeps, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  deps.dockerd.forward(request, reply);
  return reply;
}

/** dockerd's networks for the same request (filters included); its own errors pass through. */
async function localNetworks(deps: RouteDeps, request: FastifyRequest): Promise<Network[]> {
  const res = await deps.dockerd.get(requestMeta(request.raw).originalUrl);
  if (res.status !== 200) {
    const message = (JSON.parse(res.body) as { message?: string }).message ?? res.body;
    throw new ShoalError(codeOf(res.status), message);
  }
  return JSON.parse(res.body) as Network[];
}

const codeOf = (status: number): ErrorCode =>
  status === 404 ? ErrorCode.NotFound : status < 500 ? ErrorCode.InvalidArgument : ErrorCode.Internal;

/** A local network with exactly this name, if dockerd has one. */
async function localNameTaken(deps: RouteDeps, version: string, name: string): Promise<boolean> {
  const filters = encodeURIComponent(JSON.stringify({ name: { [name]: true } }));
  const res = await deps.dockerd.get(`/v${version}/networks?filters=${filters}`);
  if (res.status !== 200) return false;
  return (JSON.parse(res.body) as Network[]).some((n) => n.Name === name);
}

export function registerNetworkRoutes(app: EngineApp, deps: RouteDeps): void {
  app.post("/networks/create", async (request, reply) => {
    const text = rawBody(request);
    if (!isSwarmScopeCreate(text.trim() === "" ? undefined : parseJsonText(text))) {
      return forward(deps, request, reply);
    }
    const control = deps.backend.control(); // 503 with Swarm's text unless this node is a manager
    const req = jsonBody<NetworkCreateRequest>(request, CREATE_REQUEST);
    const predefined = ["bridge", "host", "none", "default"].includes(req.Name ?? "");
    if (req.Name && !predefined && (await localNameTaken(deps, "1.41", req.Name))) {
      throw alreadyExists(`network with name ${req.Name} already exists`);
    }
    const { ID } = await control.createNetwork(req);
    return sendJson(reply, 201, { Id: ID, Warning: "" });
  });

  app.get("/networks", async (request, reply) => {
    const control = managerControl(deps);
    if (!control) return forward(deps, request, reply);
    const filters = filtersAsRecord(parseFilters((request.query as Record<string, unknown>).filters));
    const swarm = control.listNetworks(filters);
    const seen = new Set(swarm.map((n) => n.Id));
    // dockerd's own swarm (if it is in one) is unrelated to shoal's: only its local networks count.
    const local = (await localNetworks(deps, request)).filter((n) => !seen.has(n.Id) && n.Scope !== "swarm");
    return sendJson(reply, 200, [...swarm, ...local]);
  });

  app.get<{ Params: Params }>("/networks/:id", async (request, reply) => {
    const control = managerControl(deps);
    const scope = formValue((request.query as Record<string, unknown>).scope);
    const id = request.params.id;
    if (!control || scope === "local") return forward(deps, request, reply);
    if (control.hasNetwork(id)) return sendJson(reply, 200, control.getNetwork(id));
    if (scope === "swarm") throw notFound(`network ${id} not found`);
    return forward(deps, request, reply);
  });

  app.delete<{ Params: Params }>("/networks/:id", async (request, reply) => {
    const control = managerControl(deps);
    if (!control?.hasNetwork(request.params.id)) return forward(deps, request, reply);
    await control.removeNetwork(request.params.id);
    return sendEmpty(reply, 204);
  });
}
