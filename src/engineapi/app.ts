/**
 * The fastify application behind the front server: content-type parsing (raw text; routes decode
 * with `http/body.ts`), the version check, the error boundary, and the route modules.
 */
import { type FastifyServerFactory, fastify } from "fastify";
import { toHttpError } from "./errors.ts";
import { exactJsonContentType, sendError } from "./http/reply.ts";
import { registerLogRoutes } from "./routes/logs.ts";
import { registerNetworkRoutes } from "./routes/networks.ts";
import { registerNodeRoutes } from "./routes/nodes.ts";
import { notFoundOrNotImplemented } from "./routes/not-implemented.ts";
import { registerConfigRoutes, registerSecretRoutes } from "./routes/secrets.ts";
import { registerServiceRoutes } from "./routes/services.ts";
import { registerStackRoutes } from "./routes/stacks.ts";
import { registerSwarmRoutes } from "./routes/swarm.ts";
import { registerSystemRoutes, serverHeaders } from "./routes/system.ts";
import { registerTaskRoutes } from "./routes/tasks.ts";
import type { EngineApp, RouteDeps } from "./routes/types.ts";
import { requestMeta, versionError } from "./routing.ts";

/** Every resource group's routes. Add one line per new `routes/<group>.ts`. */
const ROUTE_MODULES: ReadonlyArray<(app: EngineApp, deps: RouteDeps) => void> = [
  registerSystemRoutes,
  registerSwarmRoutes,
  registerNetworkRoutes,
  registerServiceRoutes,
  registerTaskRoutes,
  registerNodeRoutes,
  registerLogRoutes,
  registerSecretRoutes,
  registerConfigRoutes,
  registerStackRoutes,
];

/** Secrets and configs may hold up to 500 KB / 1000 KB of data, base64-encoded in the body. */
const BODY_LIMIT = 4 * 1024 * 1024;

export function buildApp(deps: RouteDeps, serverFactory: FastifyServerFactory): EngineApp {
  const app = fastify({ logger: false, bodyLimit: BODY_LIMIT, serverFactory, return503OnClosing: false });
  app.removeAllContentTypeParsers();
  // Bodies stay raw text: routes decode them with Go's error texts (http/body.ts), and
  // `deps.dockerd.forward` can re-send them unchanged.
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async (request) => {
    const err = versionError(requestMeta(request.raw).apiVersion);
    if (err) throw err;
  });
  app.addHook("onSend", exactJsonContentType);
  const headers = serverHeaders(deps.shoalVersion);
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.headers(headers);
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    deps.logger.debug({ method: request.method, url: request.url, status: reply.statusCode }, "request");
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, message, serverFault } = toHttpError(err);
    const fields = { method: request.method, url: request.url, status, err: message };
    if (serverFault) deps.logger.error({ ...fields, stack: (err as Error).stack }, "request failed");
    else deps.logger.debug(fields, "request refused");
    return sendError(reply, status, message);
  });
  app.setNotFoundHandler((request, reply) => notFoundOrNotImplemented(request, reply, deps));

  for (const register of ROUTE_MODULES) register(app, deps);
  return app as unknown as EngineApp;
}
