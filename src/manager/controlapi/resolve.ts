/**
 * Resolving a user-given reference to one object, as moby's `getService`/`getNode`/`getTask`/
 * `getNetwork` do: full ID first, then exact name, then a unique ID prefix. Several matches give
 * 400 "<kind> X is ambiguous (N matches found)"; none gives 404 "<kind> X not found".
 */
import { invalidArgument, notFound } from "../../base/index.ts";

export type ObjectKind = "service" | "node" | "task" | "network" | "secret" | "config";

export interface Resolvable {
  ID: string;
}

export const notFoundError = (kind: ObjectKind, input: string) => notFound(`${kind} ${input} not found`);

/**
 * Picks the object `input` names among `candidates`. `namesOf` gives the names an object answers
 * to (services: Spec.Name; nodes: hostname; tasks: the task name).
 */
export function resolveObject<T extends Resolvable>(
  kind: ObjectKind,
  input: string,
  candidates: readonly T[],
  namesOf: (obj: T) => readonly (string | undefined)[],
): T {
  if (input !== "") {
    const byId = candidates.find((c) => c.ID === input);
    if (byId) return byId;
    const byName = candidates.filter((c) => namesOf(c).includes(input));
    const matches = byName.length > 0 ? byName : candidates.filter((c) => c.ID.startsWith(input));
    if (matches.length > 1)
      throw invalidArgument(`${kind} ${input} is ambiguous (${matches.length} matches found)`);
    const [only] = matches;
    if (only) return only;
  }
  throw notFoundError(kind, input);
}
