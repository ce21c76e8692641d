/**
 * `/_ping`, `/version` and `/info`: the connection basics every CLI invocation goes through.
 * `/version` and `/info` are dockerd's answers, edited: shoal serves the API (1.41, min 1.24) and
 * owns the Swarm section.
 */
import type { SystemInfo, SystemVersion } from "../../api/index.ts";
import { sendJson } from "../http/reply.ts";
import { API_VERSION, MIN_API_VERSION } from "../routing.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

/** Headers moby sends on `/_ping` (engine-api-notes §1.1). */
function pingHeaders(deps: RouteDeps): Record<string, string> {
  return {
    "API-Version": API_VERSION,
    OSType: "linux",
    "Docker-Experimental": "false",
    Swarm: deps.backend.swarmHeader(),
    "Cache-Control": "no-cache, no-store, must-revalidate",
    Pragma: "no-cache",
    "Content-Type": "text/plain; charset=utf-8",
  };
}

/** Headers moby's middleware puts on every answer; the CLI only reads them on `/_ping`. */
export function serverHeaders(shoalVersion: string): Record<string, string> {
  return {
    "API-Version": API_VERSION,
    "Docker-Experimental": "false",
    OSType: "linux",
    Server: `Docker/shoal-${shoalVersion} (linux)`,
  };
}

/**
 * dockerd's `/version` as served through shoal: `Platform.Name` "shoal <v> (Docker Engine <v>)" is
 * what `docker version` prints after "Server:", a "shoal" component lists the API shoal serves, and
 * the top-level ApiVersion/MinAPIVersion are shoal's. dockerd's own components stay as they are.
 */
export function shoalVersionDoc(engine: SystemVersion | undefined, shoalVersion: string): SystemVersion {
  const engineVersion = engine?.Version;
  const component = {
    Name: "shoal",
    Version: shoalVersion,
    Details: {
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      NodeVersion: process.version,
      Os: process.platform,
      Arch: process.arch === "x64" ? "amd64" : process.arch,
    },
  };
  return {
    ...engine,
    Platform: { Name: `shoal ${shoalVersion}${engineVersion ? ` (Docker Engine ${engineVersion})` : ""}` },
    Components: [component, ...(engine?.Components ?? [])],
    Version: engineVersion ?? shoalVersion,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    Os: engine?.Os ?? "linux",
    Arch: engine?.Arch ?? component.Details.Arch,
  };
}

export function registerSystemRoutes(app: EngineApp, deps: RouteDeps): void {
  app.route({
    method: "HEAD",
    url: "/_ping",
    handler: async (_request, reply) =>
      reply.headers(pingHeaders(deps)).header("Content-Length", "0").send(""),
  });
  app.route({
    method: "GET",
    url: "/_ping",
    exposeHeadRoute: false,
    handler: async (_request, reply) => reply.headers(pingHeaders(deps)).send("OK"),
  });

  app.get("/version", async (_request, reply) => {
    let engine: SystemVersion | undefined;
    try {
      engine = (await deps.dockerd.getJson(`/v${API_VERSION}/version`)) as SystemVersion;
    } catch (err) {
      // `docker version` should still say what shoal is when dockerd is down.
      deps.logger.warn({ err: (err as Error).message }, "dockerd /version unavailable");
    }
    return sendJson(reply, 200, shoalVersionDoc(engine, deps.shoalVersion));
  });

  app.get("/info", async (_request, reply) => {
    const [engine, swarm] = await Promise.all([
      deps.dockerd.getJson(`/v${API_VERSION}/info`) as Promise<SystemInfo>,
      deps.backend.swarmInfo(),
    ]);
    return sendJson(reply, 200, { ...engine, Swarm: swarm });
  });
}
