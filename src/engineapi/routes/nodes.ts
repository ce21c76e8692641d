/**
 * `/nodes*`: list, inspect, update (`version` required) and remove (`force`), over the control API.
 * Update and delete answer 200 with no body, as moby does.
 */
import type { NodeSpec } from "../../api/index.ts";
import { jsonBody, type Shape, shape } from "../http/body.ts";
import { parseFilters } from "../http/filters.ts";
import { boolValue, parseVersionParam } from "../http/query.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Query = Record<string, unknown>;
type Params = { id: string };

export const NODE_SPEC = shape.struct("swarm.NodeSpec", {
  Name: shape.string,
  Labels: shape.map(shape.string),
  Role: shape.string,
  Availability: shape.string,
}) as Shape & { kind: "struct" };

export function registerNodeRoutes(app: EngineApp, deps: RouteDeps): void {
  const control = () => deps.backend.control();

  app.get("/nodes", async (request, reply) => {
    const filters = Object.fromEntries(parseFilters((request.query as Query).filters));
    return sendJson(reply, 200, control().listNodes(filters));
  });

  app.get<{ Params: Params }>("/nodes/:id", async (request, reply) =>
    sendJson(reply, 200, control().getNode(request.params.id)),
  );

  // moby's order: body, then version, then the cluster.
  app.post<{ Params: Params }>("/nodes/:id/update", async (request, reply) => {
    const spec = jsonBody<NodeSpec>(request, NODE_SPEC);
    const version = parseVersionParam("node", (request.query as Query).version);
    await control().updateNode(request.params.id, version, spec);
    return sendEmpty(reply, 200);
  });

  app.delete<{ Params: Params }>("/nodes/:id", async (request, reply) => {
    await control().removeNode(request.params.id, boolValue((request.query as Query).force));
    return sendEmpty(reply, 200);
  });
}
