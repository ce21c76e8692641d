/**
 * `/secrets*` and `/configs*`: create (201 `{"ID"}`), list, inspect, update (`version` required,
 * 200 no body) and remove (204), over the control API, as moby's `router/swarm/cluster_routes.go`.
 * Request bodies carry secret data: nothing here logs a body, and errors never quote it.
 */
import type { ConfigSpec, SecretSpec } from "../../api/index.ts";
import { jsonBody, type Shape, shape } from "../http/body.ts";
import { parseFilters } from "../http/filters.ts";
import { parseVersionParam } from "../http/query.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Query = Record<string, unknown>;
type Params = { id: string };

const { string, map, struct } = shape;
const driver = struct("swarm.Driver", { Name: string, Options: map(string) });

export const SECRET_SPEC = struct("swarm.SecretSpec", {
  Name: string,
  Labels: map(string),
  Data: string,
  Driver: driver,
  Templating: driver,
}) as Shape & { kind: "struct" };

export const CONFIG_SPEC = struct("swarm.ConfigSpec", {
  Name: string,
  Labels: map(string),
  Data: string,
  Templating: driver,
}) as Shape & { kind: "struct" };

const filtersOf = (query: unknown) => Object.fromEntries(parseFilters((query as Query).filters));

export function registerSecretRoutes(app: EngineApp, deps: RouteDeps): void {
  const control = () => deps.backend.control();

  app.get("/secrets", async (request, reply) =>
    sendJson(reply, 200, control().listSecrets(filtersOf(request.query))),
  );
  app.get<{ Params: Params }>("/secrets/:id", async (request, reply) =>
    sendJson(reply, 200, control().getSecret(request.params.id)),
  );
  app.post("/secrets/create", async (request, reply) => {
    const spec = jsonBody<SecretSpec>(request, SECRET_SPEC);
    return sendJson(reply, 201, await control().createSecret(spec));
  });
  // moby's order: body, then version, then the cluster.
  app.post<{ Params: Params }>("/secrets/:id/update", async (request, reply) => {
    const spec = jsonBody<SecretSpec>(request, SECRET_SPEC);
    const version = parseVersionParam("secret", (request.query as Query).version);
    await control().updateSecret(request.params.id, version, spec);
    return sendEmpty(reply, 200);
  });
  app.delete<{ Params: Params }>("/secrets/:id", async (request, reply) => {
    await control().removeSecret(request.params.id);
    return sendEmpty(reply, 204);
  });
}

export function registerConfigRoutes(app: EngineApp, deps: RouteDeps): void {
  const control = () => deps.backend.control();

  app.get("/configs", async (request, reply) =>
    sendJson(reply, 200, control().listConfigs(filtersOf(request.query))),
  );
  app.get<{ Params: Params }>("/configs/:id", async (request, reply) =>
    sendJson(reply, 200, control().getConfig(request.params.id)),
  );
  app.post("/configs/create", async (request, reply) => {
    const spec = jsonBody<ConfigSpec>(request, CONFIG_SPEC);
    return sendJson(reply, 201, await control().createConfig(spec));
  });
  app.post<{ Params: Params }>("/configs/:id/update", async (request, reply) => {
    const spec = jsonBody<ConfigSpec>(request, CONFIG_SPEC);
    const version = parseVersionParam("config", (request.query as Query).version);
    await control().updateConfig(request.params.id, version, spec);
    return sendEmpty(reply, 200);
  });
  app.delete<{ Params: Params }>("/configs/:id", async (request, reply) => {
    await control().removeConfig(request.params.id);
    return sendEmpty(reply, 204);
  });
}
