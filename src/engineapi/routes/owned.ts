/**
 * Which requests shoal answers itself; everything else is proxied to the local dockerd. Swarm-scope
 * resources are owned even before they have routes (they then answer 501 on managers): proxying them
 * would let dockerd answer about its own, unrelated swarm.
 */
export interface OwnedRoute {
  /** Matches this path and everything below it (`/nodes` owns `/nodes/x/update`). */
  prefix: string;
  /** Only these methods; all methods when absent. */
  methods?: readonly string[];
  /** Only this exact path (no sub-paths). */
  exact?: boolean;
}

export const OWNED_ROUTES: readonly OwnedRoute[] = [
  { prefix: "/_ping" },
  { prefix: "/version", exact: true },
  { prefix: "/info", exact: true },
  { prefix: "/swarm" },
  { prefix: "/nodes" },
  { prefix: "/services" },
  { prefix: "/tasks" },
  { prefix: "/secrets" },
  { prefix: "/configs" },
  { prefix: "/shoal" },
  // Overlay (swarm-scope) networks belong to the cluster; routes/networks.ts forwards the rest:
  // local creates, and list/inspect/remove on nodes that are not managers or of local networks.
  // connect, disconnect and prune stay with dockerd.
  { prefix: "/networks/create", methods: ["POST"], exact: true },
  { prefix: "/networks", methods: ["GET"], exact: true },
];

/** Swarm-scope prefixes: without a route yet they answer 501 on managers, 503 elsewhere. */
export const SWARM_SCOPE_PREFIXES: readonly string[] = [
  "/nodes",
  "/services",
  "/tasks",
  "/secrets",
  "/configs",
];

export function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** `/networks/{id}` (one segment): inspect and remove; sub-paths (connect...) are dockerd's. */
const NETWORK_ITEM = /^\/networks\/[^/]+$/;

export function isOwned(method: string, path: string): boolean {
  if ((method === "GET" || method === "DELETE") && NETWORK_ITEM.test(path) && path !== "/networks/create") {
    return true;
  }
  return OWNED_ROUTES.some(
    (r) =>
      (r.methods === undefined || r.methods.includes(method)) &&
      (r.exact ? path === r.prefix : underPrefix(path, r.prefix)),
  );
}
