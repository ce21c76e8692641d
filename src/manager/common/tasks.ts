/**
 * Small facts about tasks, services and nodes that several manager loops share: numeric states,
 * service modes, reservations, host ports, node validity. All pure.
 */
import type { Node, SwarmService, SwarmTask, TaskSpec } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";

/** The observed state of a task as a number in Swarm's order (absent = new). */
export const stateOf = (t: SwarmTask): number => TaskStates[t.Status?.State ?? "new"];

/** The desired state of a task as a number in Swarm's order (absent = new, SwarmKit's zero value). */
export const desiredOf = (t: SwarmTask): number => TaskStates[t.DesiredState ?? "new"];

export type ServiceMode = "replicated" | "global" | "replicated-job" | "global-job";

/** The service's mode; a spec with no mode is replicated, as the Engine API defaults it. */
export function serviceMode(service: SwarmService): ServiceMode {
  const mode = service.Spec?.Mode;
  if (mode?.Global) return "global";
  if (mode?.ReplicatedJob) return "replicated-job";
  if (mode?.GlobalJob) return "global-job";
  return "replicated";
}

export const isJobMode = (mode: ServiceMode): boolean => mode === "replicated-job" || mode === "global-job";

/** SwarmKit's `InvalidNode`: the node is gone, down, or drained. */
export function invalidNode(node: Node | undefined): boolean {
  return node === undefined || node.Status?.State === "down" || node.Spec?.Availability === "drain";
}

export interface Reservations {
  nanoCPUs: number;
  memoryBytes: number;
  /** Generic resources by kind: discrete counts, or the number of named values requested. */
  generic: Map<string, number>;
}

/** What a task spec reserves on its node (limits are ignored, as in Swarm). */
export function reservationsOf(spec: TaskSpec | undefined): Reservations {
  const r = spec?.Resources?.Reservations;
  const generic = new Map<string, number>();
  for (const g of r?.GenericResources ?? []) {
    if (g.DiscreteResourceSpec?.Kind) {
      const kind = g.DiscreteResourceSpec.Kind;
      generic.set(kind, (generic.get(kind) ?? 0) + (g.DiscreteResourceSpec.Value ?? 0));
    } else if (g.NamedResourceSpec?.Kind) {
      const kind = g.NamedResourceSpec.Kind;
      generic.set(kind, (generic.get(kind) ?? 0) + 1);
    }
  }
  return { nanoCPUs: r?.NanoCPUs ?? 0, memoryBytes: r?.MemoryBytes ?? 0, generic };
}

/** What a node offers: its described resources, generic ones counted per kind. */
export function nodeResources(node: Node): Reservations {
  const r = node.Description?.Resources;
  const generic = new Map<string, number>();
  for (const g of r?.GenericResources ?? []) {
    const kind = g.DiscreteResourceSpec?.Kind ?? g.NamedResourceSpec?.Kind;
    if (!kind) continue;
    const n = g.DiscreteResourceSpec ? (g.DiscreteResourceSpec.Value ?? 0) : 1;
    generic.set(kind, (generic.get(kind) ?? 0) + n);
  }
  return { nanoCPUs: r?.NanoCPUs ?? 0, memoryBytes: r?.MemoryBytes ?? 0, generic };
}

/**
 * Host-mode ports with an explicit published port that the task holds on its node, as
 * `protocol/port` keys. Read from the task's endpoint (allocated ports, else its spec).
 */
export function hostPortsOf(t: SwarmTask): string[] {
  const ports = t.Endpoint?.Ports ?? t.Endpoint?.Spec?.Ports ?? [];
  const out: string[] = [];
  for (const p of ports) {
    if (p.PublishMode === "host" && p.PublishedPort) out.push(`${p.Protocol ?? "tcp"}/${p.PublishedPort}`);
  }
  return out;
}

/** Milliseconds of an RFC 3339 timestamp, or undefined when absent or unparsable. */
export function parseTime(ts: string | undefined): number | undefined {
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** SwarmKit's task timestamp: the manager's `applied_at` if set, else the status timestamp. */
export const taskTimestamp = (t: SwarmTask): number | undefined =>
  parseTime(t.Status?.AppliedAt) ?? parseTime(t.Status?.Timestamp);

/** RFC 3339 for a millisecond time, as the Engine API writes timestamps. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();
