/**
 * The subset of Go's text/template that Swarm documents for `--hostname`, `--env` and `--mount`
 * (swarmkit `template/context.go`): field paths on a fixed context, `index` on the service labels,
 * `range $k, $v := .Service.Labels` ... `{{end}}`, and `{{-`/`-}}` trim markers. Anything else is
 * rejected with an error naming the construct, where Go would have run it.
 */
import { invalidArgument, type ShoalError } from "../../base/index.ts";

/** The values a template may read: the same strict set as swarmkit's `template.Context`. */
export interface TemplateContext {
  Service: { ID: string; Name: string; Labels: Record<string, string> };
  Node: { ID: string; Hostname: string; Platform: { Architecture: string; OS: string } };
  Task: { ID: string; Name: string; Slot: string };
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "field"; path: string[] }
  | { kind: "index"; path: string[]; key: string }
  | { kind: "var"; name: string }
  | { kind: "range"; keyVar: string; valueVar: string; path: string[]; body: Node[] };

const FIELD = /^((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$/;
const INDEX = /^index\s+((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s+"((?:[^"\\]|\\.)*)"$/;
const RANGE =
  /^range\s+\$([A-Za-z_][A-Za-z0-9_]*)\s*,\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*:=\s*((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$/;
const VAR = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

/** Expands `s` against `ctx`; strings without `{{` come back unchanged. */
export function expandTemplate(s: string, ctx: TemplateContext): string {
  if (!s.includes("{{")) return s;
  const nodes = parse(s);
  return render(nodes, ctx, new Map(), s);
}

function fail(source: string, detail: string): ShoalError {
  return invalidArgument(`template ${JSON.stringify(source)}: ${detail}`);
}

function tokenize(source: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf("{{");
    if (open < 0) {
      out.push({ text: rest });
      break;
    }
    const close = rest.indexOf("}}", open + 2);
    if (close < 0) throw fail(source, "unclosed action");
    let inner = rest.slice(open + 2, close);
    let text = rest.slice(0, open);
    if (inner.startsWith("- ")) {
      text = text.trimEnd();
      inner = inner.slice(2);
    }
    let after = rest.slice(close + 2);
    if (inner.endsWith(" -")) {
      inner = inner.slice(0, -2);
      after = after.trimStart();
    }
    if (text) out.push({ text });
    out.push({ action: inner.trim() });
    rest = after;
  }
  return out;
}

function parse(source: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  for (const tok of tokenize(source)) {
    const top = stack[stack.length - 1]!;
    if ("text" in tok) {
      top.push({ kind: "text", text: tok.text });
      continue;
    }
    const a = tok.action;
    if (a.startsWith("/*")) continue; // a comment
    if (a === "end") {
      if (stack.length === 1) throw fail(source, "unexpected {{end}}");
      stack.pop();
      continue;
    }
    const node = parseAction(a, source);
    top.push(node);
    if (node.kind === "range") stack.push(node.body);
  }
  if (stack.length > 1) throw fail(source, "missing {{end}}");
  return root;
}

function parseAction(a: string, source: string): Node {
  const field = FIELD.exec(a);
  if (field) return { kind: "field", path: field[1]!.slice(1).split(".") };
  const index = INDEX.exec(a);
  if (index) return { kind: "index", path: index[1]!.slice(1).split("."), key: JSON.parse(`"${index[2]}"`) };
  const v = VAR.exec(a);
  if (v) return { kind: "var", name: v[1]! };
  const range = RANGE.exec(a);
  if (range) {
    const path = range[3]!.slice(1).split(".");
    return { kind: "range", keyVar: range[1]!, valueVar: range[2]!, path, body: [] };
  }
  throw fail(source, `unsupported action {{${a}}} (supported: {{.Service.Name}}-style fields, index, range)`);
}

type Value = string | Record<string, string> | { [k: string]: Value };

function lookup(ctx: TemplateContext, path: string[], source: string): Value {
  let cur: Value = ctx as unknown as Value;
  for (let i = 0; i < path.length; i++) {
    const name = path[i]!;
    if (typeof cur === "string" || !Object.hasOwn(cur, name)) {
      throw fail(source, `can't evaluate field ${name} in .${path.slice(0, i).join(".") || "(context)"}`);
    }
    cur = cur[name] as Value;
  }
  return cur;
}

function isLabelMap(path: string[]): boolean {
  return path.length === 2 && path[0] === "Service" && path[1] === "Labels";
}

/** Go prints a map as `map[k1:v1 k2:v2]` with sorted keys. */
function printValue(v: Value, path: string[], source: string): string {
  if (typeof v === "string") return v;
  if (!isLabelMap(path)) throw fail(source, `.${path.join(".")} is not a value`);
  const pairs = Object.keys(v)
    .sort()
    .map((k) => `${k}:${(v as Record<string, string>)[k]}`);
  return `map[${pairs.join(" ")}]`;
}

function render(nodes: Node[], ctx: TemplateContext, vars: Map<string, string>, source: string): string {
  let out = "";
  for (const n of nodes) {
    switch (n.kind) {
      case "text":
        out += n.text;
        break;
      case "field":
        out += printValue(lookup(ctx, n.path, source), n.path, source);
        break;
      case "index": {
        const m = lookup(ctx, n.path, source);
        if (typeof m === "string" || !isLabelMap(n.path)) throw fail(source, "index of a non-map");
        // like Go's index on a map, a missing key gives the zero value
        out += (m as Record<string, string>)[n.key] ?? "";
        break;
      }
      case "var": {
        const v = vars.get(n.name);
        if (v === undefined) throw fail(source, `undefined variable $${n.name}`);
        out += v;
        break;
      }
      case "range": {
        const m = lookup(ctx, n.path, source);
        if (typeof m === "string" || !isLabelMap(n.path)) throw fail(source, "range over a non-map");
        const labels = m as Record<string, string>;
        for (const k of Object.keys(labels).sort()) {
          const inner = new Map(vars).set(n.keyVar, k).set(n.valueVar, labels[k]!);
          out += render(n.body, ctx, inner, source);
        }
        break;
      }
    }
  }
  return out;
}
