/**
 * List filters as the Engine API carries them (`filters={"key":{"value":true}}`, already decoded by
 * engineapi into key → values) and the matching rules SwarmKit's control API applies: `id` and
 * `name` are prefix matches, `label` is `key` (present) or `key=value` (exact), all keys AND-ed,
 * the values of one key OR-ed.
 */
import { invalidArgument } from "../../base/index.ts";

/** Decoded `filters` query: key → the values given for it. */
export type Filters = Readonly<Record<string, readonly string[]>>;

/** moby's `filters.Validate`: any key outside `accepted` is refused. */
export function validateFilterKeys(filters: Filters, accepted: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!accepted.includes(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
}

/** The values given for key (empty when absent). */
export const filterValues = (filters: Filters, key: string): readonly string[] => filters[key] ?? [];

/** True when candidates is empty or value starts with one of them. */
export function matchesPrefix(value: string, candidates: readonly string[]): boolean {
  return candidates.length === 0 || candidates.some((c) => value.startsWith(c));
}

/** True when candidates is empty or value equals one of them. */
export function matchesExact(value: string, candidates: readonly string[]): boolean {
  return candidates.length === 0 || candidates.includes(value);
}

/** moby's convertKVStringsToMap: `key=value` → {key: value}, `key` → {key: ""}. */
export function labelFilterMap(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const at = v.indexOf("=");
    if (at < 0) out.set(v, "");
    else out.set(v.slice(0, at), v.slice(at + 1));
  }
  return out;
}

/** SwarmKit's filterMatchLabels: every wanted key present, and equal when a value was given. */
export function matchesLabels(
  labels: Readonly<Record<string, string>> | undefined,
  wanted: Map<string, string>,
): boolean {
  if (wanted.size === 0) return true;
  for (const [k, v] of wanted) {
    const have = labels?.[k];
    if (have === undefined) return false;
    if (v !== "" && v !== have) return false;
  }
  return true;
}
