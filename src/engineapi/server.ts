/**
 * The Engine API server: one plain node http server per listener (unix socket, optional TCP) that
 * decides per request who answers it.
 *
 * - Routes shoal owns (`routes/owned.ts`: `/_ping`, `/version`, `/info`, `/swarm*`, `/nodes*`,
 *   `/services*`, `/tasks*`, `/secrets*`, `/configs*`, `/shoal/*`, `POST /networks/create`) go to
 *   fastify, with the `/v1.NN` prefix stripped (the version is checked in an onRequest hook).
 * - Everything else is proxied byte-for-byte to the local dockerd (`proxy/http.ts`), and upgraded
 *   (hijacked) connections are spliced as raw sockets (`proxy/hijack.ts`).
 *
 * ## Adding routes (the pattern every resource group follows)
 * 1. One file per resource group: `routes/<group>.ts` exporting
 *    `registerXRoutes(app: EngineApp, deps: RouteDeps): void` (types in `routes/types.ts`). Register
 *    unversioned paths only (`app.get("/services/:id", ...)`); the prefix never reaches fastify.
 * 2. Add one line to `ROUTE_MODULES` in `app.ts`. Nothing else in engineapi changes.
 * 3. Handlers reach the cluster through `deps.backend.control()` (it throws Swarm's 503 text when this
 *    node is not a manager) and signal failures by throwing ShoalError; `errors.ts` maps codes to
 *    statuses in one table. Never set an error status by hand.
 * 4. Reply with `sendJson(reply, status, body)` / `sendEmpty(reply, status)` from `http/reply.ts`
 *    (exact `Content-Type: application/json`, no charset). Read bodies with `jsonBody(request, type)`,
 *    queries with `http/query.ts` (`boolValue`, `parseVersionParam`), `http/filters.ts`, and stream
 *    logs with `http/stdcopy.ts`.
 * 5. Swarm-scope paths without a route yet answer 501 `not implemented yet: <route>` on managers
 *    (`routes/not-implemented.ts`, a not-found fallback), so a new route simply takes over.
 * 6. A path dockerd also serves (e.g. `GET /networks`) must be listed in `routes/owned.ts` to reach
 *    fastify; requests you decide not to handle go on with `deps.dockerd.forward(request, reply)`.
 */
export {};
