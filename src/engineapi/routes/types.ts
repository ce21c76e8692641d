/**
 * What every route module receives. A route module is one file per resource group under
 * `engineapi/routes/` exporting `registerXRoutes(app: EngineApp, deps: RouteDeps): void`; see the
 * comment at the top of `engineapi/server.ts` for the whole pattern.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../base/index.ts";
import type { NodeBackend } from "../backend.ts";
import type { Dockerd } from "../proxy/dockerd.ts";

/** The fastify instance routes are registered on (plain node http server underneath). */
export type EngineApp = FastifyInstance;

export interface RouteDeps {
  /** The node: swarm membership and, on managers, the control API (`backend.control()`). */
  backend: NodeBackend;
  /** The local dockerd: JSON reads (`getJson`) and forwarding a request shoal chose not to handle. */
  dockerd: Dockerd;
  /** Child logger with `module: "engineapi"`. Client mistakes at debug, server faults at error. */
  logger: Logger;
  /** shoal's own version, shown by `docker version`. */
  shoalVersion: string;
}
