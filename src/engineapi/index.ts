/** engineapi: the Docker Engine API server (owned swarm routes + proxy to the local dockerd). */
export type {
  NodeBackend,
  SwarmInitRequest,
  SwarmJoinRequest,
  TaskLogLine,
  TaskLogOptions,
} from "./backend.ts";
export { STATUS_BY_CODE, toHttpError } from "./errors.ts";
export { checkShape, jsonBody, parseJsonText, rawBody, type Shape, shape } from "./http/body.ts";
export { exactMatch, type FilterMap, filtersAsRecord, parseFilters } from "./http/filters.ts";
export { boolValue, formValue, parseVersionParam, strictBool, type VersionedKind } from "./http/query.ts";
export { JSON_CONTENT_TYPE, sendEmpty, sendError, sendJson } from "./http/reply.ts";
export { parseStdcopyFrames, StdcopyWriter, StdStream, stdcopyFrame } from "./http/stdcopy.ts";
export type { EngineApp, RouteDeps } from "./routes/types.ts";
export { API_VERSION, MIN_API_VERSION, requestApiVersion } from "./routing.ts";
export { DEFAULT_DOCKER_SOCKET, type EngineApiOptions, EngineApiServer, SHOAL_VERSION } from "./server.ts";
