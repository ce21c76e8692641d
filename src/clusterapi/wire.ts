/**
 * Server-side helpers: reading and checking JSON bodies (the peer is untrusted: every field is
 * checked before use), answering with JSON or a wire error, and the peer's identity from its TLS
 * certificate.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { TLSSocket } from "node:tls";
import { asShoalError, invalidArgument } from "../base/index.ts";
import type { NodeIdentity, PeerSubject } from "../ca/index.ts";
import { identityFromSubject } from "../ca/index.ts";
import { readBody } from "./ndjson.ts";
import { MAX_UNARY_BODY_BYTES, statusOf, type WireError } from "./protocol.ts";

export type Json = Record<string, unknown>;

export async function readJsonBody(stream: ServerHttp2Stream): Promise<Json> {
  const body = await readBody(stream, MAX_UNARY_BODY_BYTES);
  if (body.length === 0) return {};
  return asObject(parseJson(body.toString("utf8")), "request body");
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidArgument("malformed JSON");
  }
}

export function asObject(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw invalidArgument(`${what} must be an object`);
  return v as Json;
}

export function str(obj: Json, key: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") throw invalidArgument(`${key} must be a non-empty string`);
  return v;
}

export function optStr(obj: Json, key: string): string | undefined {
  return obj[key] === undefined ? undefined : str(obj, key);
}

export function sendJson(stream: ServerHttp2Stream, body: unknown, status = 200): void {
  if (stream.destroyed || stream.closed) return;
  if (!stream.headersSent) stream.respond({ ":status": status, "content-type": "application/json" });
  stream.end(JSON.stringify(body));
}

export function toWireError(err: unknown): WireError {
  const e = asShoalError(err);
  return { code: e.code, message: e.message };
}

export function sendError(stream: ServerHttp2Stream, err: unknown): void {
  const error = toWireError(err);
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close();
    return;
  }
  sendJson(stream, { error }, statusOf(error.code));
}

/** The verified peer: undefined when it sent no certificate or one that does not chain to the root. */
export function peerIdentity(stream: ServerHttp2Stream): NodeIdentity | undefined {
  const socket = stream.session?.socket as TLSSocket | undefined;
  if (!socket?.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  return cert?.subject ? identityFromSubject(cert.subject as PeerSubject) : undefined;
}

export function remoteAddress(stream: ServerHttp2Stream): string | undefined {
  return stream.session?.socket?.remoteAddress;
}

export const pathOf = (headers: IncomingHttpHeaders): string =>
  String(headers[":path"] ?? "").split("?")[0] ?? "";
