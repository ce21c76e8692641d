/**
 * Replies in the shape the docker CLI decodes. The Go client decodes an error body only when the
 * Content-Type is exactly `application/json`; fastify appends `; charset=utf-8` to JSON it
 * serialises, so JSON is sent as a Buffer (left alone by fastify) and `exactJsonContentType` strips
 * the charset from anything else a route sends.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

export const JSON_CONTENT_TYPE = "application/json";

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header("content-type", JSON_CONTENT_TYPE)
    .send(Buffer.from(`${JSON.stringify(body)}\n`));
}

/** An empty body: `DELETE` answers (204) and the swarm POSTs whose body the CLI ignores (200). */
export function sendEmpty(reply: FastifyReply, status: number): FastifyReply {
  return reply.code(status).send();
}

/** Body of every error response: `{"message": ...}`. */
export function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendJson(reply, status, { message });
}

/** onSend hook: `application/json; charset=utf-8` → `application/json`. */
export async function exactJsonContentType(
  _request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  const type = reply.getHeader("content-type");
  if (typeof type === "string" && /^application\/json;\s*charset=utf-8$/i.test(type)) {
    reply.header("content-type", JSON_CONTENT_TYPE);
  }
  return payload;
}
