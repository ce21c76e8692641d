/**
 * Per-request decision of the front http server: strip the `/v1.NN` prefix, then either hand the
 * request to fastify (owned) or proxy it unchanged to dockerd.
 */
import type { IncomingMessage } from "node:http";
import { invalidArgument, type ShoalError } from "../base/index.ts";
import { isOwned } from "./routes/owned.ts";

export const API_VERSION = "1.41";
export const MIN_API_VERSION = "1.24";

export interface RouteDecision {
  owned: boolean;
  /** The version from the path prefix, if any. */
  apiVersion: string | undefined;
  /** The URL without the version prefix (query kept). */
  url: string;
}

const VERSION_PREFIX = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)?$/;

export function decideRoute(method: string, rawUrl: string): RouteDecision {
  const q = rawUrl.indexOf("?");
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? "" : rawUrl.slice(q);
  const m = VERSION_PREFIX.exec(path);
  const apiVersion = m ? m[1] : undefined;
  const bare = m ? (m[2] ?? "/") : path;
  return { owned: isOwned(method, bare), apiVersion, url: bare + query };
}

/** Compares dotted versions numerically ("1.9" < "1.24"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** moby's version middleware texts; undefined when the version is served. */
export function versionError(version: string | undefined): ShoalError | undefined {
  if (version === undefined) return undefined;
  if (compareVersions(version, API_VERSION) > 0) {
    return invalidArgument(
      `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    return invalidArgument(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, ` +
        "please upgrade your client to a newer version",
    );
  }
  return undefined;
}

interface RequestMeta {
  apiVersion: string | undefined;
  /** The URL as the client sent it, for forwarding to dockerd. */
  originalUrl: string;
}

const metaByRequest = new WeakMap<IncomingMessage, RequestMeta>();

export function setRequestMeta(req: IncomingMessage, meta: RequestMeta): void {
  metaByRequest.set(req, meta);
}

export function requestMeta(req: IncomingMessage): RequestMeta {
  return metaByRequest.get(req) ?? { apiVersion: undefined, originalUrl: req.url ?? "/" };
}

/** The API version the client asked for (the path prefix), or the server's when unversioned. */
export function requestApiVersion(req: IncomingMessage): string {
  return requestMeta(req).apiVersion ?? API_VERSION;
}
