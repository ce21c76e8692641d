/** Helpers shared by the converters. */
import { isObject, type Json, type JsonObject, NAMESPACE_LABEL } from "./types.ts";

export class ConvertError extends Error {}

/** Drops `undefined` members so the JSON matches Go's `omitempty`. */
export function compact(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

export function withStackLabel(namespace: string, labels: Json | undefined): JsonObject {
  return { ...(isObject(labels) ? labels : {}), [NAMESPACE_LABEL]: namespace };
}
