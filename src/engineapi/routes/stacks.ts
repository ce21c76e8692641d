/**
 * `/shoal/v1/stacks*` (shoal extension): stacks with their deploy history. `shoal stack deploy`
 * deploys over the ordinary Engine API as `docker stack deploy` does, then records the revision
 * here; `shoal stack history` and `shoal stack rollback` read it back.
 *
 * - `GET /shoal/v1/stacks` → `[{ID, Name, CreatedAt, UpdatedAt, Revision, Revisions}]`
 * - `GET /shoal/v1/stacks/{name}` → the stack with every kept revision
 * - `POST /shoal/v1/stacks/{name}/revisions` `{Kind?, RolledBackTo?, Files?, Objects}` → 201 `{Index}`
 * - `DELETE /shoal/v1/stacks/{name}` → 204
 */
import type { StackRevisionRequest } from "../../manager/controlapi/index.ts";
import { jsonBody, type Shape, shape } from "../http/body.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Params = { name: string };

const { string, int, array, struct } = shape;

const REVISION_REQUEST = struct("shoal.StackRevisionRequest", {
  Kind: string,
  RolledBackTo: int(),
  Files: array(string),
  Objects: shape.any,
}) as Shape & { kind: "struct" };

export function registerStackRoutes(app: EngineApp, deps: RouteDeps): void {
  const control = () => deps.backend.control();

  app.get("/shoal/v1/stacks", async (_request, reply) => sendJson(reply, 200, control().listStacks()));
  app.get<{ Params: Params }>("/shoal/v1/stacks/:name", async (request, reply) =>
    sendJson(reply, 200, control().getStack(request.params.name)),
  );
  app.post<{ Params: Params }>("/shoal/v1/stacks/:name/revisions", async (request, reply) => {
    const req = jsonBody<StackRevisionRequest>(request, REVISION_REQUEST);
    return sendJson(reply, 201, await control().recordStackRevision(request.params.name, req));
  });
  app.delete<{ Params: Params }>("/shoal/v1/stacks/:name", async (request, reply) => {
    await control().removeStack(request.params.name);
    return sendEmpty(reply, 204);
  });
}
