/**
 * Which secrets and configs a node may hold, and how that set changes: pure functions the sessions
 * use (SwarmKit's `dispatcher/assignments.go` rule). A node gets a secret or config exactly while
 * at least one of *its own* tasks in states assigned..running references it; the set is computed
 * from the node's tasks alone, so a worker can never obtain a payload its tasks don't use.
 */
import type { AssignedPayload, Task } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";

export interface DependencyIds {
  secrets: Set<string>;
  configs: Set<string>;
}

export interface DependencyDiff {
  addedSecrets: string[];
  removedSecrets: string[];
  addedConfigs: string[];
  removedConfigs: string[];
}

/** A task holds its dependencies from assigned to running; terminal states release them. */
export function holdsDependencies(task: Task, nodeId: string): boolean {
  const state = TaskStates[task.Status?.State ?? "new"];
  return task.NodeID === nodeId && state >= TaskStates.assigned && state <= TaskStates.running;
}

/** The secret and config IDs the node's tasks reference (tasks of other nodes count for nothing). */
export function neededDependencies(tasks: Iterable<Task>, nodeId: string): DependencyIds {
  const out: DependencyIds = { secrets: new Set(), configs: new Set() };
  for (const task of tasks) {
    if (!holdsDependencies(task, nodeId)) continue;
    const c = task.Spec?.ContainerSpec;
    for (const ref of c?.Secrets ?? []) if (ref.SecretID) out.secrets.add(ref.SecretID);
    for (const ref of c?.Configs ?? []) if (ref.ConfigID) out.configs.add(ref.ConfigID);
  }
  return out;
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();
const minus = (a: Set<string>, b: Set<string>): string[] => sorted([...a].filter((id) => !b.has(id)));

/** What changes between what the node holds and what it should hold. */
export function diffDependencies(held: DependencyIds, wanted: DependencyIds): DependencyDiff {
  return {
    addedSecrets: minus(wanted.secrets, held.secrets),
    removedSecrets: minus(held.secrets, wanted.secrets),
    addedConfigs: minus(wanted.configs, held.configs),
    removedConfigs: minus(held.configs, wanted.configs),
  };
}

export const isEmptyDiff = (d: DependencyDiff): boolean =>
  d.addedSecrets.length + d.removedSecrets.length + d.addedConfigs.length + d.removedConfigs.length === 0;

/** Where the payloads come from (a store view); undefined when the object no longer exists. */
export interface PayloadSource {
  secret(id: string): AssignedPayload | undefined;
  config(id: string): AssignedPayload | undefined;
}

/**
 * Fetches the payloads of the added IDs. An ID whose object is gone (deleted after the service
 * stopped referencing it) is left out, as SwarmKit does; the task then fails on the node.
 */
export function fetchPayloads(
  diff: DependencyDiff,
  source: PayloadSource,
): { secrets: AssignedPayload[]; configs: AssignedPayload[] } {
  const present = <T>(v: T | undefined): v is T => v !== undefined;
  return {
    secrets: diff.addedSecrets.map((id) => source.secret(id)).filter(present),
    configs: diff.addedConfigs.map((id) => source.config(id)).filter(present),
  };
}
