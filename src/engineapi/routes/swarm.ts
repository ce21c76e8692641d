/**
 * `/swarm*`: membership (init, join, leave, unlock) goes to the node backend; the cluster object
 * (inspect, update, unlock key) to the control API, which only a manager has.
 */
import type { SwarmSpec } from "../../api/index.ts";
import type { SwarmInitRequest, SwarmJoinRequest } from "../backend.ts";
import { jsonBody } from "../http/body.ts";
import { boolValue, parseVersionParam, strictBool } from "../http/query.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import { INIT_REQUEST, JOIN_REQUEST, SWARM_SPEC_REQUEST, UNLOCK_REQUEST } from "./swarm-shapes.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Query = Record<string, unknown>;

export function registerSwarmRoutes(app: EngineApp, deps: RouteDeps): void {
  const { backend } = deps;

  app.post("/swarm/init", async (request, reply) => {
    const req = jsonBody<SwarmInitRequest>(request, INIT_REQUEST);
    return sendJson(reply, 200, await backend.swarmInit(req));
  });

  app.post("/swarm/join", async (request, reply) => {
    await backend.swarmJoin(jsonBody<SwarmJoinRequest>(request, JOIN_REQUEST));
    return sendEmpty(reply, 200);
  });

  app.post("/swarm/leave", async (request, reply) => {
    await backend.swarmLeave(boolValue((request.query as Query).force));
    return sendEmpty(reply, 200);
  });

  app.post("/swarm/unlock", async (request, reply) => {
    const { UnlockKey } = jsonBody<{ UnlockKey?: string | null }>(request, UNLOCK_REQUEST);
    await backend.swarmUnlock(UnlockKey ?? "");
    return sendEmpty(reply, 200);
  });

  app.get("/swarm", async (_request, reply) => sendJson(reply, 200, backend.control().inspectSwarm()));

  // moby's order: body, then version, then the rotate flags, then the manager check.
  app.post("/swarm/update", async (request, reply) => {
    const spec = jsonBody<SwarmSpec>(request, SWARM_SPEC_REQUEST);
    const query = request.query as Query;
    const flags = {
      version: parseVersionParam("swarm", query.version),
      rotateWorkerToken: strictBool("rotateWorkerToken", query.rotateWorkerToken),
      rotateManagerToken: strictBool("rotateManagerToken", query.rotateManagerToken),
      rotateManagerUnlockKey: strictBool("rotateManagerUnlockKey", query.rotateManagerUnlockKey),
    };
    await backend.control().updateSwarm(spec, flags);
    return sendEmpty(reply, 200);
  });

  app.get("/swarm/unlockkey", async (_request, reply) =>
    sendJson(reply, 200, { UnlockKey: backend.control().unlockKey() }),
  );
}
