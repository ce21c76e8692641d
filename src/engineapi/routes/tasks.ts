/**
 * `/tasks*`: list (moby's filters, `_up-to-date` included, for the CLI's progress polling and
 * `stack rm`'s busy loop, so it stays one store view) and inspect. Task logs are elsewhere.
 */
import { parseFilters } from "../http/filters.ts";
import { sendJson } from "../http/reply.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Params = { id: string };

export function registerTaskRoutes(app: EngineApp, deps: RouteDeps): void {
  app.get("/tasks", async (request, reply) => {
    const filters = Object.fromEntries(parseFilters((request.query as Record<string, unknown>).filters));
    return sendJson(reply, 200, deps.backend.control().listTasks(filters));
  });

  app.get<{ Params: Params }>("/tasks/:id", async (request, reply) =>
    sendJson(reply, 200, deps.backend.control().getTask(request.params.id)),
  );
}
