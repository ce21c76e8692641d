/**
 * The `filters` query parameter: URL-encoded JSON `{"key":{"value":true}}`, or the legacy
 * `{"key":["value"]}` (moby `filters.FromJSON`). Values whose flag is false still count, as in moby.
 */
import { invalidArgument } from "../../base/index.ts";
import { formValue } from "./query.ts";

export type FilterMap = Map<string, string[]>;

function valuesOf(key: string, raw: unknown): string[] {
  if (Array.isArray(raw)) {
    if (!raw.every((v) => typeof v === "string")) throw invalidArgument(`invalid filter '${key}'`);
    return raw as string[];
  }
  if (typeof raw === "object" && raw !== null) {
    if (!Object.values(raw).every((v) => typeof v === "boolean")) {
      throw invalidArgument(`invalid filter '${key}'`);
    }
    return Object.keys(raw);
  }
  throw invalidArgument(`invalid filter '${key}'`);
}

/**
 * Parses `filters`; with `accepted`, a key outside it → 400 `invalid filter '<key>'` (moby's
 * `Args.Validate`). An absent or empty parameter gives an empty map.
 */
export function parseFilters(raw: unknown, accepted?: readonly string[]): FilterMap {
  const text = formValue(raw);
  const filters: FilterMap = new Map();
  if (text === "") return filters;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`invalid filter: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalidArgument("invalid filter: expected a JSON object of filter names");
  }
  for (const [key, value] of Object.entries(doc)) {
    if (accepted && !accepted.includes(key)) throw invalidArgument(`invalid filter '${key}'`);
    filters.set(key, valuesOf(key, value));
  }
  return filters;
}

/** moby's `Args.ExactMatch`: true when the key is absent or one of its values equals `source`. */
export function exactMatch(filters: FilterMap, key: string, source: string): boolean {
  const values = filters.get(key);
  return values === undefined || values.length === 0 || values.includes(source);
}

/** The same filters as a plain record, the form `manager/controlapi`'s `Filters` takes. */
export function filtersAsRecord(filters: FilterMap): Record<string, string[]> {
  return Object.fromEntries(filters);
}
