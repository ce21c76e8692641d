/**
 * Checks a compose file against `schema.ts` and coerces interpolated scalars (`replicas: ${N}`
 * arrives as the string "3") to the type the key wants, as docker/cli's type-cast mapping does.
 * Messages follow docker/cli's schema errors: `services.web.deploy.replicas must be a integer`,
 * `services.web Additional property foo is not allowed`.
 */
import { COMPOSE_SCHEMA, type Rule } from "./schema.ts";
import { isObject, type Json } from "./types.ts";

export class ComposeValidationError extends Error {}

const TYPE_NAME: Readonly<Record<string, string>> = {
  string: "string",
  integer: "integer",
  number: "number",
  boolean: "boolean",
  array: "array",
  map: "object",
  object: "object",
};

interface Result {
  value: Json;
  errors: string[];
}

function coerce(rule: Rule, value: Json): Json {
  if (typeof value !== "string") return value;
  if ((rule.kind === "integer" || rule.kind === "number") && /^-?\d+(\.\d+)?$/.test(value.trim())) {
    return Number(value);
  }
  if (rule.kind === "boolean" && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === "true";
  return value;
}

function check(rule: Rule, input: Json, path: string): Result {
  const value = coerce(rule, input);
  const fail = (message: string): Result => ({ value, errors: [`${path} ${message}`] });
  switch (rule.kind) {
    case "any":
      return { value, errors: [] };
    case "null":
      return value === null ? { value, errors: [] } : fail("must be a null");
    case "string":
      if (typeof value !== "string") return fail(`must be a string`);
      if (rule.values && !rule.values.includes(value)) {
        return fail(`must be one of the following: ${rule.values.map((v) => JSON.stringify(v)).join(", ")}`);
      }
      return { value, errors: [] };
    case "integer":
      return typeof value === "number" && Number.isInteger(value)
        ? { value, errors: [] }
        : fail("must be a integer");
    case "number":
      return typeof value === "number" ? { value, errors: [] } : fail("must be a number");
    case "boolean":
      return typeof value === "boolean" ? { value, errors: [] } : fail("must be a boolean");
    case "array": {
      if (!Array.isArray(value)) return fail("must be a array");
      const results = value.map((v, i) => check(rule.items, v, `${path}.${i}`));
      return { value: results.map((r) => r.value), errors: results.flatMap((r) => r.errors) };
    }
    case "map":
    case "object": {
      if (!isObject(value)) return fail(`must be a ${TYPE_NAME[rule.kind]}`);
      const out: Record<string, Json> = {};
      const errors: string[] = [];
      for (const [key, v] of Object.entries(value)) {
        const sub = path === "(root)" ? key : `${path}.${key}`;
        let childRule: Rule | undefined;
        if (rule.kind === "map") childRule = rule.values;
        else if (rule.props[key]) childRule = rule.props[key];
        else if (rule.extensions && key.startsWith("x-")) childRule = { kind: "any" };
        if (!childRule) {
          errors.push(`${path} Additional property ${key} is not allowed`);
          continue;
        }
        const r = check(childRule, v, sub);
        out[key] = r.value;
        errors.push(...r.errors);
      }
      return { value: out, errors };
    }
    case "oneOf": {
      let best: Result | undefined;
      for (const alt of rule.rules) {
        const r = check(alt, input, path);
        if (r.errors.length === 0) return r;
        // An alternative of the right JSON type explains the failure better than "must be a ...".
        const sameType =
          (alt.kind === "object" || alt.kind === "map") === isObject(input) &&
          (alt.kind === "array") === Array.isArray(input);
        if (sameType && (alt.kind === "object" || alt.kind === "map" || alt.kind === "array")) best = r;
      }
      return best ?? fail(`must be a ${rule.label.replaceAll(",", " or ")}`);
    }
  }
}

/** Validates one parsed (and interpolated) file; returns it with scalars coerced. */
export function validateCompose(file: string, config: Json): Json {
  const { value, errors } = check(COMPOSE_SCHEMA, config, "(root)");
  if (errors.length > 0) throw new ComposeValidationError(`validating ${file}: ${errors.join("\n")}`);
  return value;
}
