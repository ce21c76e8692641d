/**
 * Request bodies. The content-type parsers in `app.ts` leave the raw text in `request.body`; routes
 * decode it here, with the error texts Go's encoding/json gives dockerd, and check field types
 * against a small shape description so a wrong type is a 400 naming the field, never a crash later.
 */
import type { FastifyRequest } from "fastify";
import { invalidArgument, type ShoalError } from "../../base/index.ts";
import { goJsonSyntaxError } from "./json-syntax.ts";

/** The JSON shape Go would decode into. Unknown fields are ignored and `null` is allowed anywhere. */
export type Shape =
  | { kind: "string" | "bool" | "any" }
  | { kind: "int" | "uint"; goType: string }
  | { kind: "map"; of: Shape; goType: string }
  | { kind: "array"; of: Shape; goType: string }
  | { kind: "struct"; goType: string; fields: Readonly<Record<string, Shape>> };

export const shape = {
  string: { kind: "string" } as Shape,
  bool: { kind: "bool" } as Shape,
  any: { kind: "any" } as Shape,
  int: (goType = "int"): Shape => ({ kind: "int", goType }),
  uint: (goType = "uint64"): Shape => ({ kind: "uint", goType }),
  map: (of: Shape, goType = "map[string]string"): Shape => ({ kind: "map", of, goType }),
  array: (of: Shape, goType = "[]string"): Shape => ({ kind: "array", of, goType }),
  struct: (goType: string, fields: Record<string, Shape>): Shape => ({ kind: "struct", goType, fields }),
};

/** The raw body text fastify collected (see the content-type parsers in `app.ts`). */
export function rawBody(request: FastifyRequest): string {
  const body: unknown = request.body;
  if (typeof body === "string") return body;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  return "";
}

/** Go's decoder errors, so the user sees what is wrong and where. */
export function jsonSyntaxError(text: string, err: unknown): ShoalError {
  const detail = err instanceof Error ? err.message : String(err);
  return invalidArgument(goJsonSyntaxError(text) ?? `invalid JSON: ${detail}`);
}

/** Parses JSON text; an empty body → 400 `got EOF while reading request body` (moby's text). */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") throw invalidArgument("got EOF while reading request body");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw jsonSyntaxError(text, err);
  }
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  return typeof value === "object" ? "object" : typeof value;
}

function goTypeOf(s: Shape): string {
  if ("goType" in s) return s.goType;
  return s.kind === "any" ? "interface {}" : s.kind;
}

function mismatch(value: unknown, s: Shape, field: string, root: string): ShoalError {
  // Go names the value only when a number does not fit a numeric type ("number 1.5", "number -1").
  const numeric = s.kind === "int" || s.kind === "uint";
  const what = typeof value === "number" && numeric ? `number ${value}` : jsonKind(value);
  const where = field === "" ? `Go value of type ${root}` : `Go struct field ${root}.${field} of type`;
  return invalidArgument(
    `json: cannot unmarshal ${what} into ${where}${field === "" ? "" : ` ${goTypeOf(s)}`}`,
  );
}

function fits(value: unknown, s: Shape): boolean {
  switch (s.kind) {
    case "any":
      return true;
    case "string":
      return typeof value === "string";
    case "bool":
      return typeof value === "boolean";
    case "int":
      return typeof value === "number" && Number.isInteger(value);
    case "uint":
      return typeof value === "number" && Number.isInteger(value) && value >= 0;
    case "array":
      return Array.isArray(value);
    default:
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}

/** Throws a 400 naming the first field whose JSON type does not fit `s`. */
export function checkShape(value: unknown, s: Shape, root: string, field = ""): void {
  if (value === null || value === undefined) return;
  if (!fits(value, s)) throw mismatch(value, s, field, root);
  const at = (name: string) => (field === "" ? name : `${field}.${name}`);
  if (s.kind === "array") {
    for (const item of value as unknown[]) checkShape(item, s.of, root, field);
  }
  if (s.kind === "map") {
    for (const [k, v] of Object.entries(value as object)) checkShape(v, s.of, root, at(k));
  }
  if (s.kind === "struct") {
    for (const [name, fieldShape] of Object.entries(s.fields)) {
      checkShape((value as Record<string, unknown>)[name], fieldShape, root, at(name));
    }
  }
}

/**
 * Decodes the request body as `s` (a struct shape; its goType names the root in errors). Returns the
 * parsed value typed by the caller, after the shape check.
 */
export function jsonBody<T>(request: FastifyRequest, s: Shape & { kind: "struct" }): T {
  const value = parseJsonText(rawBody(request));
  checkShape(value, s, s.goType);
  return value as T;
}
