/**
 * The not-found handler. Under a swarm-scope prefix without a route yet, a manager answers 501
 * `not implemented yet: <METHOD> <path>` and any other node Swarm's 503 (from `control()`): never a
 * silent success, and never dockerd's answer about its own swarm. Elsewhere: moby's 404.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { notImplemented } from "../../base/index.ts";
import { sendError } from "../http/reply.ts";
import { SWARM_SCOPE_PREFIXES, underPrefix } from "./owned.ts";
import type { RouteDeps } from "./types.ts";

export async function notFoundOrNotImplemented(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: RouteDeps,
): Promise<FastifyReply> {
  const path = request.url.split("?")[0] ?? "/";
  if (SWARM_SCOPE_PREFIXES.some((p) => underPrefix(path, p))) {
    deps.backend.control();
    throw notImplemented(`${request.method} ${path}`);
  }
  return sendError(reply, 404, "page not found");
}
