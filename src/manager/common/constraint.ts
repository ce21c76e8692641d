/**
 * Placement constraints (`node.labels.zone==east`), as SwarmKit's `manager/constraint` parses and
 * matches them: keys are case-insensitive, values are compared case-insensitively as exact strings
 * (no globs or regexes, although the value syntax admits such characters), a missing label is "",
 * an unknown key never matches, and all constraints must hold.
 */
import { BlockList, isIP } from "node:net";
import type { Node } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";

export type ConstraintOperator = "==" | "!=";

export interface Constraint {
  /** The key as written (trimmed), e.g. `node.labels.zone`. */
  key: string;
  operator: ConstraintOperator;
  /** The expected value as written (trimmed). */
  value: string;
}

/** Prefixes shared with placement preferences (`spread=node.labels.rack`). */
export const NODE_LABEL_PREFIX = "node.labels.";
export const ENGINE_LABEL_PREFIX = "engine.labels.";

const OPERATORS: readonly ConstraintOperator[] = ["==", "!="];
const KEY_PATTERN = /^[a-z_][a-z0-9\-_.]+$/i;
// Swarm's value syntax: it must not contain current or future operators such as < > ~ =.
const VALUE_PATTERN = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

/**
 * Parses constraint expressions, throwing ShoalError(InvalidArgument) with SwarmKit's exact message
 * ("key 'x y' is invalid", "value 'a<b' is invalid", "constraint expected one operator from ==, !=").
 */
export function parseConstraints(exprs: readonly string[]): Constraint[] {
  return exprs.map(parseOne);
}

/** Like parseConstraints, but undefined on a syntax error (SwarmKit then disables the filter). */
export function tryParseConstraints(exprs: readonly string[] | undefined): Constraint[] | undefined {
  try {
    return parseConstraints(exprs ?? []);
  } catch {
    return undefined;
  }
}

function parseOne(expr: string): Constraint {
  for (const operator of OPERATORS) {
    const at = expr.indexOf(operator);
    if (at < 0) continue;
    const key = expr.slice(0, at).trim();
    if (!KEY_PATTERN.test(key)) throw invalidArgument(`key '${key}' is invalid`);
    const value = expr.slice(at + operator.length).trim();
    if (!VALUE_PATTERN.test(value)) throw invalidArgument(`value '${value}' is invalid`);
    return { key, operator, value };
  }
  throw invalidArgument(`constraint expected one operator from ${OPERATORS.join(", ")}`);
}

const equalFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function matchValue(c: Constraint, actual: string): boolean {
  const equal = equalFold(c.value, actual);
  return c.operator === "==" ? equal : !equal;
}

/** True when a key starts with prefix (case-insensitively) and names something after it. */
export function hasPrefixFold(key: string, prefix: string): boolean {
  return key.length > prefix.length && equalFold(key.slice(0, prefix.length), prefix);
}

/** The node's role as constraints see it. */
export function nodeRole(node: Node): string {
  return node.Spec?.Role ?? "worker";
}

/**
 * The string a constraint key reads from a node, or undefined for keys that are not understood
 * (which never match). `node.ip` is handled separately because it compares addresses.
 */
function nodeValue(key: string, node: Node): string | undefined {
  const k = key.toLowerCase();
  if (k === "node.id") return node.ID;
  if (k === "node.hostname") return node.Description?.Hostname ?? "";
  if (k === "node.role") return nodeRole(node);
  if (k === "node.platform.os") return node.Description?.Platform?.OS ?? "";
  if (k === "node.platform.arch") return node.Description?.Platform?.Architecture ?? "";
  // Label names themselves are case-sensitive; only the prefix is not.
  if (hasPrefixFold(key, NODE_LABEL_PREFIX))
    return node.Spec?.Labels?.[key.slice(NODE_LABEL_PREFIX.length)] ?? "";
  if (hasPrefixFold(key, ENGINE_LABEL_PREFIX)) {
    return node.Description?.Engine?.Labels?.[key.slice(ENGINE_LABEL_PREFIX.length)] ?? "";
  }
  return undefined;
}

/** `node.ip==10.0.0.1` or `node.ip!=10.0.0.0/8`, against the node's status address. */
function matchNodeIp(c: Constraint, node: Node): boolean {
  const addr = node.Status?.Addr ?? "";
  const list = new BlockList();
  const [net, bits, extra] = c.value.split("/");
  const family = isIP(net ?? "");
  if (family === 0 || extra !== undefined) return false; // malformed address: never matches
  const type = family === 4 ? "ipv4" : "ipv6";
  if (bits === undefined) {
    list.addAddress(net as string, type);
  } else {
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return false;
    list.addSubnet(net as string, prefix, type);
  }
  const addrFamily = isIP(addr);
  const inside = addrFamily !== 0 && list.check(addr, addrFamily === 4 ? "ipv4" : "ipv6");
  return c.operator === "==" ? inside : !inside;
}

/** True when the node satisfies every constraint. */
export function nodeMatches(constraints: readonly Constraint[], node: Node): boolean {
  for (const c of constraints) {
    if (equalFold(c.key, "node.ip")) {
      if (!matchNodeIp(c, node)) return false;
      continue;
    }
    const actual = nodeValue(c.key, node);
    if (actual === undefined || !matchValue(c, actual)) return false;
  }
  return true;
}
