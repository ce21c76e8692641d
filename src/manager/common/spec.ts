/**
 * Spec comparison after normalisation: a spec that went through JSON and the control API may carry
 * `Labels: {}` where another has no field at all, which Swarm's protobufs treat as the same value.
 */

/** True for values normalisation drops: undefined, null, empty arrays and empty objects. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).every((k) => isEmpty((v as Record<string, unknown>)[k]));
  return false;
}

/**
 * A canonical JSON text: object keys sorted, empty values dropped, so equal specs give equal text.
 * Array order is kept (it is meaningful in commands, env and mounts).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (isEmpty(v) ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => !isEmpty(obj[k]))
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Deep equality after normalisation. */
export const specsEqual = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Groups items by key in one pass (no array copying per item). */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
