/**
 * Compose files → one merged, validated model (docker/cli's `loader.Load` for stacks): parse YAML
 * (anchors, `<<` merge keys, `x-` extension fields), refuse forbidden keys, interpolate, validate,
 * normalise short syntaxes, then merge the files in order.
 */
import { parseDocument, type ScalarTag } from "yaml";
import { InterpolationError, interpolate } from "./interpolate.ts";
import { ComposeNormalizeError, normalizeFile } from "./normalize.ts";
import { DEPRECATED_PROPERTIES, FORBIDDEN_PROPERTIES, UNSUPPORTED_PROPERTIES } from "./schema.ts";
import {
  type ComposeSource,
  isObject,
  type Json,
  type JsonObject,
  type LoadedCompose,
  type LoadOptions,
} from "./types.ts";
import { ComposeValidationError, validateCompose } from "./validate.ts";

export class ComposeError extends Error {}

/** Go's YAML reads `mode: 0440` as octal, as file modes in compose files expect. */
const GO_OCTAL: ScalarTag = {
  tag: "tag:yaml.org,2002:int",
  default: true,
  test: /^0[0-7]+$/,
  resolve: (text) => Number.parseInt(text, 8),
};

function parseYaml(source: ComposeSource): JsonObject {
  const doc = parseDocument(source.text, {
    merge: true,
    uniqueKeys: true,
    customTags: (tags) => [GO_OCTAL, ...tags],
  });
  if (doc.errors.length > 0) {
    throw new ComposeError(`${source.name}: yaml: ${(doc.errors[0] as Error).message.split("\n")[0]}`);
  }
  const value = doc.toJS({ maxAliasCount: 10_000 }) as Json;
  if (value === null || value === undefined) throw new ComposeError(`${source.name}: empty compose file`);
  if (!isObject(value)) throw new ComposeError(`${source.name}: top-level object must be a mapping`);
  return value;
}

function services(config: JsonObject): Array<[string, JsonObject]> {
  return isObject(config.services)
    ? Object.entries(config.services).filter((e): e is [string, JsonObject] => isObject(e[1]))
    : [];
}

function checkVersion(source: ComposeSource, config: JsonObject): void {
  const version = config.version;
  if (version === undefined) return;
  const text = String(version);
  if (!/^3(\.\d+)?$/.test(text)) {
    throw new ComposeError(
      `${source.name}: unsupported Compose file version: ${text}. The stack commands accept version 3.x files.`,
    );
  }
}

function checkForbidden(source: ComposeSource, config: JsonObject): void {
  const found: string[] = [];
  for (const [name, svc] of services(config)) {
    for (const key of Object.keys(FORBIDDEN_PROPERTIES)) {
      if (key in svc) found.push(`${key}: ${FORBIDDEN_PROPERTIES[key]} (service ${name})`);
    }
  }
  if (found.length > 0) {
    throw new ComposeError(
      `${source.name}: compose file contains unsupported options:\n\n${found.join("\n")}\n`,
    );
  }
}

/** docker/cli's two warnings, computed over every file. */
function warningsOf(configs: JsonObject[]): string[] {
  const unsupported = new Set<string>();
  const deprecated = new Map<string, string>();
  for (const config of configs) {
    for (const [, svc] of services(config)) {
      for (const key of UNSUPPORTED_PROPERTIES) if (key in svc) unsupported.add(key);
      for (const [key, why] of Object.entries(DEPRECATED_PROPERTIES))
        if (key in svc) deprecated.set(key, why);
    }
  }
  const out: string[] = [];
  if (unsupported.size > 0) out.push(`Ignoring unsupported options: ${[...unsupported].sort().join(", ")}`);
  if (deprecated.size > 0) {
    const lines = [...deprecated.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`);
    out.push(`Ignoring deprecated options:\n\n${lines.join("\n")}`);
  }
  return out;
}

/** List keys whose entries an override file merges by identity rather than replacing wholesale. */
const KEYED_LISTS: Readonly<Record<string, (item: Json) => string>> = {
  ports: (p) =>
    isObject(p) ? `${p.published ?? ""}:${p.target}/${p.protocol ?? "tcp"}/${p.mode ?? ""}` : String(p),
  volumes: (v) => (isObject(v) ? String(v.target) : String(v)),
  secrets: (s) => (isObject(s) ? String(s.source) : String(s)),
  configs: (s) => (isObject(s) ? String(s.source) : String(s)),
};

function mergeValue(base: Json | undefined, over: Json, key: string, depth: number): Json {
  if (isObject(base) && isObject(over)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValue(base[k], v, k, depth + 1);
    return out;
  }
  const keyOf = depth === 3 ? KEYED_LISTS[key] : undefined;
  if (keyOf && Array.isArray(base) && Array.isArray(over)) {
    const byKey = new Map<string, Json>();
    for (const item of base) byKey.set(keyOf(item), item);
    for (const item of over) byKey.set(keyOf(item), item);
    return [...byKey.values()];
  }
  return over;
}

/** Loads and merges `sources` in order; throws ComposeError naming the file, service and key. */
export function loadCompose(sources: readonly ComposeSource[], opts: LoadOptions): LoadedCompose {
  if (sources.length === 0) throw new ComposeError("Please specify a Compose file (with --compose-file).");
  const raw: JsonObject[] = [];
  let merged: JsonObject = {};
  for (const source of sources) {
    const config = parseYaml(source);
    checkVersion(source, config);
    checkForbidden(source, config);
    raw.push(config);
    let normalized: JsonObject;
    try {
      const interpolated = interpolate(config, opts.env, "") as JsonObject;
      const valid = validateCompose(source.name, interpolated) as JsonObject;
      normalized = normalizeFile(valid, opts);
    } catch (err) {
      if (err instanceof ComposeValidationError) throw new ComposeError(err.message);
      if (err instanceof InterpolationError || err instanceof ComposeNormalizeError) {
        throw new ComposeError(`${source.name}: ${err.message}`);
      }
      throw err;
    }
    merged = mergeValue(merged, normalized, "", 0) as JsonObject;
  }
  resolveEnvironment(merged, opts);
  return { model: merged, warnings: warningsOf(raw) };
}

/** `environment: [FOO]` takes FOO from the deploying shell when it is set there. */
function resolveEnvironment(model: JsonObject, opts: LoadOptions): void {
  for (const [, svc] of services(model)) {
    if (!isObject(svc.environment)) continue;
    for (const [k, v] of Object.entries(svc.environment)) {
      if (v === null && opts.env[k] !== undefined) svc.environment[k] = opts.env[k] as string;
    }
  }
}
