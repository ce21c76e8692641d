/**
 * `shoal up` / `shoal down`: checking the flags and writing what the user reads. Pure, so the
 * rules and the output are tested without a cluster.
 */
import { invalidArgument } from "../base/index.ts";

export const DEFAULT_NODES = 3;
export const DEFAULT_MANAGERS = 1;
export const MAX_UP_NODES = 50;

/** The flags as commander hands them over (strings; undefined when not given). */
export interface UpFlags {
  name: string;
  nodes?: string;
  managers?: string;
  loadImage: string[];
  demo: boolean;
  timeout: string;
}

export interface UpRequest {
  name: string;
  /** undefined: not given (an existing cluster keeps its shape, a new one gets the default) */
  nodes: number | undefined;
  managers: number | undefined;
  loadImages: string[];
  demo: boolean;
  timeoutMs: number;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw invalidArgument(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

export function checkName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw invalidArgument(`--name "${name}": use a-z, 0-9 and -, at most 41 characters`);
  return name;
}

export function parseUpFlags(f: UpFlags): UpRequest {
  const nodes = f.nodes === undefined ? undefined : wholeNumber("--nodes", f.nodes, 1, MAX_UP_NODES);
  const managers =
    f.managers === undefined ? undefined : wholeNumber("--managers", f.managers, 1, MAX_UP_NODES);
  if (managers !== undefined && managers > (nodes ?? Math.max(DEFAULT_NODES, managers)))
    throw invalidArgument(`--managers (${managers}) cannot exceed --nodes (${nodes})`);
  for (const image of f.loadImage)
    if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(image))
      throw invalidArgument(`--load-image "${image}": not an image reference`);
  return {
    name: checkName(f.name),
    nodes,
    managers,
    loadImages: [...new Set(f.loadImage)],
    demo: f.demo,
    timeoutMs: wholeNumber("--timeout", f.timeout, 1, 3600) * 1000,
  };
}

/**
 * The shape of a new cluster: the flags, else the one it replaces (`previous`), else the defaults;
 * never more managers than nodes.
 */
export function newShape(
  r: UpRequest,
  previous?: { nodes: number; managers: number },
): { nodes: number; managers: number } {
  const nodes = r.nodes ?? Math.max(previous?.nodes ?? DEFAULT_NODES, r.managers ?? 0);
  return { nodes, managers: r.managers ?? Math.min(previous?.managers ?? DEFAULT_MANAGERS, nodes) };
}

/** Why an existing cluster does not match the flags (then the user must `shoal down` first). */
export function shapeMismatch(
  r: UpRequest,
  existing: { nodes: number; managers: number },
): string | undefined {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  const wrong = [
    r.nodes !== undefined && r.nodes !== existing.nodes ? `--nodes ${r.nodes}` : "",
    r.managers !== undefined && r.managers !== existing.managers ? `--managers ${r.managers}` : "",
  ].filter(Boolean);
  if (wrong.length === 0) return undefined;
  return (
    `cluster "${r.name}" is already up with ${plural(existing.nodes, "node")} and ` +
    `${plural(existing.managers, "manager")}, not ${wrong.join(" ")}: run "shoal down` +
    `${r.name === "shoal" ? "" : ` --name ${r.name}`}" first, or choose another --name`
  );
}

export interface NodeLine {
  hostname: string;
  addr: string;
  /** "manager (leader)", "manager", "worker" */
  role: string;
  socket: string;
}

export interface Summary {
  name: string;
  nodes: NodeLine[];
  registry?: { addr: string; image: string; ref: string };
  dockerHost: string;
  /** The demo's published URL and whether it answered from this machine; absent without demo. */
  demo?: { url: string; answers: boolean };
  /** Where the daemons' logs are. */
  logs: string;
  seconds: number;
  reused: boolean;
}

const pad = (s: string, n: number) => s.padEnd(n);

/** What `shoal up` prints at the end: the nodes, the DOCKER_HOST line, and what to try. */
export function summaryLines(s: Summary): string[] {
  const w1 = Math.max(4, ...s.nodes.map((n) => n.hostname.length)) + 2;
  const w2 = Math.max(7, ...s.nodes.map((n) => n.addr.length)) + 2;
  const w3 = Math.max(4, ...s.nodes.map((n) => n.role.length)) + 2;
  const down = `./bin/shoal down${s.name === "shoal" ? "" : ` --name ${s.name}`}`;
  const lines = [
    `Cluster "${s.name}" is up (${s.reused ? "reused" : "created"}, ${s.seconds.toFixed(1)} s):`,
    `  ${pad("NODE", w1)}${pad("ADDRESS", w2)}${pad("ROLE", w3)}ENGINE API`,
    ...s.nodes.map((n) => `  ${pad(n.hostname, w1)}${pad(n.addr, w2)}${pad(n.role, w3)}unix://${n.socket}`),
  ];
  if (s.registry)
    lines.push(`  registry: ${s.registry.addr} (${s.registry.image}, by digest ${s.registry.ref})`);
  lines.push("", `DOCKER_HOST=${s.dockerHost}`, "", "Use it with the docker CLI:");
  lines.push(`  export DOCKER_HOST=${s.dockerHost}`, "  docker node ls");
  if (s.demo) {
    lines.push(
      "  docker stack services demo       # web: 3 healthy replicas, client: calls web by name",
      "  docker service logs demo_client",
      `  curl ${s.demo.url}${" ".repeat(Math.max(1, 31 - s.demo.url.length))}# the demo's published port (any node's address)`,
    );
    if (!s.demo.answers)
      lines.push(
        `  (${s.demo.url} did not answer: the routing mesh, which makes ingress-published ports`,
        "   answer on every node, is not in this version of shoal yet)",
      );
  }
  lines.push(`Logs: ${s.logs}`, `Remove it: ${down}`);
  return lines;
}
