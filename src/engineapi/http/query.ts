/**
 * Query-string parsing with dockerd's semantics and error texts. Fastify hands query values over as
 * `string | string[] | undefined`; like Go's `r.FormValue`, the first value wins.
 */
import { invalidArgument } from "../../base/index.ts";

export type VersionedKind = "service" | "node" | "swarm" | "secret" | "config";

/** Go's `r.FormValue(k)`: the first value, or "" when absent. */
export function formValue(raw: unknown): string {
  if (Array.isArray(raw)) return formValue(raw[0]);
  return typeof raw === "string" ? raw : "";
}

/**
 * dockerd's `httputils.BoolValue`: false for "", "0", "no", "false", "none" (any case, trimmed),
 * true for anything else. `fallback` applies only when the parameter is absent
 * (`BoolValueOrDefault`).
 */
export function boolValue(raw: unknown, fallback = false): boolean {
  if (raw === undefined) return fallback;
  const s = formValue(raw).trim().toLowerCase();
  return !(s === "" || s === "0" || s === "no" || s === "false" || s === "none");
}

const STRICT_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const STRICT_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/**
 * Go's `strconv.ParseBool`, used by moby where a bad value is an error (`/swarm/update`'s rotate
 * flags): absent or "" gives `fallback`; anything unrecognised → 400 `invalid value for <name>: <v>`.
 */
export function strictBool(name: string, raw: unknown, fallback = false): boolean {
  const s = formValue(raw);
  if (s === "") return fallback;
  if (STRICT_TRUE.has(s)) return true;
  if (STRICT_FALSE.has(s)) return false;
  throw invalidArgument(`invalid value for ${name}: ${s}`);
}

const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * The `version` query parameter of an update (`strconv.ParseUint(raw, 10, 64)`). Missing or not a
 * number → 400 `invalid <kind> version '<raw>': strconv.ParseUint: parsing "<raw>": invalid syntax`.
 */
export function parseVersionParam(kind: VersionedKind, raw: unknown): number {
  const s = formValue(raw);
  const fail = (why: string) =>
    invalidArgument(
      `invalid ${kind} version '${s}': strconv.ParseUint: parsing ${JSON.stringify(s)}: ${why}`,
    );
  if (!/^[0-9]+$/.test(s)) throw fail("invalid syntax");
  const value = BigInt(s);
  if (value > MAX_UINT64) throw fail("value out of range");
  // Indexes are store commit counters; they stay far below 2^53.
  return Number(value);
}
