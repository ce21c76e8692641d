/**
 * `${VAR}` interpolation as docker/cli's `compose/template`: `$VAR`, `${VAR}`, `${VAR:-default}`
 * (unset or empty), `${VAR-default}` (unset), `${VAR:?err}` / `${VAR?err}` (required),
 * `${VAR:+alt}` / `${VAR+alt}`, and `$$` for a literal `$`. Only string values are touched.
 */
import { isObject, type Json } from "./types.ts";

export class InterpolationError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

function substitution(expr: string, env: Env, where: string, original: string): string {
  const m = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-?+])(.*))?$/s.exec(expr);
  if (!m) throw invalidFormat(where, original);
  const name = m[1] as string;
  const op = m[2];
  const arg = interpolateString(m[3] ?? "", env, where);
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== "";
  switch (op) {
    case undefined:
      return value ?? "";
    case ":-":
      return nonEmpty ? (value as string) : arg;
    case "-":
      return set ? (value as string) : arg;
    case ":?":
      if (!nonEmpty) throw new InterpolationError(`required variable ${name} is missing a value: ${arg}`);
      return value as string;
    case "?":
      if (!set) throw new InterpolationError(`required variable ${name} is missing a value: ${arg}`);
      return value as string;
    case ":+":
      return nonEmpty ? arg : "";
    default:
      return set ? arg : "";
  }
}

function invalidFormat(where: string, original: string): InterpolationError {
  return new InterpolationError(
    `invalid interpolation format for ${where}: ${JSON.stringify(original)}. You may need to escape any $ with another $.`,
  );
}

/** Finds the `}` closing a `${`, allowing nested `${...}` in defaults. */
function closingBrace(s: string, start: number): number {
  let depth = 1;
  for (let i = start; i < s.length; i++) {
    if (s[i] === "$" && s[i + 1] === "{") {
      depth++;
      i++;
    } else if (s[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export function interpolateString(s: string, env: Env, where: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "{") {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw invalidFormat(where, s);
      out += substitution(s.slice(i + 2, end), env, where, s);
      i = end + 1;
    } else {
      const m = NAME.exec(s.slice(i + 1));
      if (!m) {
        if (next === undefined || /\s/.test(next)) {
          out += "$";
          i++;
          continue;
        }
        throw invalidFormat(where, s);
      }
      out += env[m[0]] ?? "";
      i += 1 + m[0].length;
    }
  }
  return out;
}

/** Interpolates every string value (not keys) below `value`; `path` names it in errors. */
export function interpolate(value: Json, env: Env, path: string): Json {
  if (typeof value === "string") return interpolateString(value, env, path);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env, path));
  if (isObject(value)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
