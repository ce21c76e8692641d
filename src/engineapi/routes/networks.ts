/**
 * Networks: dockerd keeps local-scope networks (bridge, macvlan, host...). Swarm-scope ones
 * (`Driver: overlay`, or `Scope: swarm`) belong to the cluster, as moby redirects them to its
 * cluster backend. Only `POST /networks/create` is routed here (see owned.ts); list, inspect and
 * delete of swarm networks are for the work that implements them.
 */
import { notImplemented } from "../../base/index.ts";
import { parseJsonText, rawBody } from "../http/body.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

/** True when a create request is for a swarm-scope network. Bad JSON → 400 from parseJsonText. */
export function isSwarmScopeCreate(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const { Driver, Scope } = body as { Driver?: unknown; Scope?: unknown };
  return Driver === "overlay" || Scope === "swarm";
}

export function registerNetworkRoutes(app: EngineApp, deps: RouteDeps): void {
  app.post("/networks/create", async (request, reply) => {
    const text = rawBody(request);
    if (!isSwarmScopeCreate(text.trim() === "" ? undefined : parseJsonText(text))) {
      deps.dockerd.forward(request, reply);
      return reply;
    }
    deps.backend.control(); // 503 with Swarm's text unless this node is a manager
    throw notImplemented("POST /networks/create (swarm scope)");
  });
}
