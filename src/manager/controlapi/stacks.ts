/**
 * Stacks as first-class objects (shoal extension, beyond Swarm): one StackObject per stack name
 * holding its deploy history. Each revision keeps what the deploy sent (the converted networks,
 * secrets, configs and service specs, as JSON) so a rollback can send it again without the
 * original files. The deploy itself runs client-side, as `docker stack deploy` does.
 */
import { invalidArgument, notFound, timestamp } from "../../base/index.ts";
import type { StackObject } from "../../store/types.ts";
import type { CoreDeps } from "./deps.ts";

/** Revisions kept per stack; older ones are dropped. */
export const MAX_STACK_REVISIONS = 20;

export interface StackRevision {
  /** 1, 2, 3... never reused. */
  Index: number;
  CreatedAt: string;
  /** "deploy", or "rollback" (then RolledBackTo names the revision copied). */
  Kind: "deploy" | "rollback";
  RolledBackTo?: number;
  /** The compose files' names, for display. */
  Files: string[];
  /** The converted stack objects the deploy sent (opaque to the manager). */
  Objects: unknown;
}

export interface StackRevisionRequest {
  Kind?: "deploy" | "rollback";
  RolledBackTo?: number;
  Files?: string[];
  Objects: unknown;
}

export interface StackSummary {
  ID: string;
  Name: string;
  CreatedAt: string;
  UpdatedAt: string;
  /** The newest revision's index. */
  Revision: number;
  Revisions: number;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function revisionsOf(stack: StackObject): StackRevision[] {
  return Array.isArray(stack.Revisions) ? (stack.Revisions as StackRevision[]) : [];
}

function byName(deps: CoreDeps, name: string): StackObject | undefined {
  return deps.store.view((tx) => tx.lookup("stacks", "name", name)[0]);
}

export function listStacks(deps: CoreDeps): StackSummary[] {
  const stacks = deps.store.view((tx) => tx.list("stacks"));
  return stacks
    .map((s) => {
      const revs = revisionsOf(s);
      return {
        ID: s.ID,
        Name: s.Spec.Name,
        CreatedAt: String(s.CreatedAt ?? ""),
        UpdatedAt: String(s.UpdatedAt ?? ""),
        Revision: revs[revs.length - 1]?.Index ?? 0,
        Revisions: revs.length,
      };
    })
    .sort((a, b) => a.Name.localeCompare(b.Name));
}

export function getStack(deps: CoreDeps, name: string): StackObject {
  const stack = byName(deps, name);
  if (!stack) throw notFound(`stack ${name} not found`);
  return structuredClone(stack);
}

export async function recordStackRevision(
  deps: CoreDeps,
  name: string,
  req: StackRevisionRequest,
): Promise<{ Index: number }> {
  if (!NAME.test(name)) throw invalidArgument(`invalid stack name "${name}"`);
  if (req.Objects === undefined || req.Objects === null) throw invalidArgument("a revision needs Objects");
  const now = timestamp(deps.clock);
  let index = 0;
  await deps.store.update((tx) => {
    const current = tx.lookup("stacks", "name", name)[0];
    const revs = current ? revisionsOf(current) : [];
    index = (revs[revs.length - 1]?.Index ?? 0) + 1;
    const revision: StackRevision = {
      Index: index,
      CreatedAt: now,
      Kind: req.Kind === "rollback" ? "rollback" : "deploy",
      Files: Array.isArray(req.Files) ? req.Files.map(String) : [],
      Objects: req.Objects,
    };
    if (req.RolledBackTo !== undefined) revision.RolledBackTo = req.RolledBackTo;
    const kept = [...revs, revision].slice(-MAX_STACK_REVISIONS);
    if (current) {
      tx.update("stacks", { ...current, UpdatedAt: now, Revisions: kept });
    } else {
      tx.create("stacks", {
        ID: deps.ids.newId(),
        CreatedAt: now,
        UpdatedAt: now,
        Spec: { Name: name },
        Revisions: kept,
      } as StackObject);
    }
  });
  return { Index: index };
}

export async function removeStack(deps: CoreDeps, name: string): Promise<void> {
  await deps.store.update((tx) => {
    const current = tx.lookup("stacks", "name", name)[0];
    if (!current) throw notFound(`stack ${name} not found`);
    tx.delete("stacks", current.ID);
  });
}
