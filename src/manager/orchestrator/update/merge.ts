/**
 * Gluing the updater to a mode reconciler's pass: the task set the updater sees (the reconciler's
 * decisions applied), the two decision sets merged so each object is written once, and the guarded
 * write of an UpdateStatus change.
 */
import type { SwarmService, SwarmTask } from "../../../api/index.ts";
import type { WriteTx } from "../../../store/types.ts";
import { canonicalJson, isoTime } from "../../common/index.ts";
import type { Decisions } from "../plan.ts";
import type { ServiceStatusChange } from "./updater.ts";

/** The tasks as they will be once `d` is written. */
export function applyDecisions(tasks: readonly SwarmTask[], d: Decisions): SwarmTask[] {
  const byId = new Map(tasks.map((t) => [t.ID, t]));
  for (const t of [...d.update, ...d.create]) byId.set(t.ID, t);
  for (const id of d.delete) byId.delete(id);
  return [...byId.values()];
}

/**
 * `extra` was decided over the tasks after `base`, so its version of a task wins; a task `base`
 * creates and `extra` changes is still a creation.
 */
export function mergeDecisions(base: Decisions, extra: Decisions): Decisions {
  const created = new Map(base.create.map((t) => [t.ID, t]));
  const updated = new Map(base.update.map((t) => [t.ID, t]));
  for (const t of extra.update) (created.has(t.ID) ? created : updated).set(t.ID, t);
  for (const t of extra.create) created.set(t.ID, t);
  const wakes = [base.wakeAt, extra.wakeAt].filter((w): w is number => w !== undefined);
  return {
    create: [...created.values()],
    update: [...updated.values()],
    delete: [...new Set([...base.delete, ...extra.delete])],
    ...(wakes.length > 0 ? { wakeAt: Math.min(...wakes) } : {}),
  };
}

/** Same spec and same UpdateStatus as when the change was decided. */
function unchangedSince(current: SwarmService, basis: SwarmService): boolean {
  return (
    current.SpecVersion?.Index === basis.SpecVersion?.Index &&
    canonicalJson(current.Spec ?? null) === canonicalJson(basis.Spec ?? null) &&
    canonicalJson(current.UpdateStatus ?? null) === canonicalJson(basis.UpdateStatus ?? null)
  );
}

/**
 * The store write for an UpdateStatus change: re-reads the service and touches only UpdateStatus
 * (and, for an automatic rollback, the spec swap). If a user update or rollback got there first,
 * it does nothing: the next pass decides again from the new service.
 */
export function serviceStatusUnit(c: ServiceStatusChange, now: number): (tx: WriteTx) => void {
  return (tx) => {
    const current = tx.get("services", c.serviceId) as SwarmService | undefined;
    if (!current || !unchangedSince(current, c.basis)) return;
    const next: SwarmService = { ...current, UpdateStatus: c.updateStatus, UpdatedAt: isoTime(now) };
    if (c.rollback) {
      if (!current.PreviousSpec) return;
      next.Spec = current.PreviousSpec;
      if (current.PreviousSpecVersion) next.SpecVersion = current.PreviousSpecVersion;
      else delete next.SpecVersion;
      delete next.PreviousSpec;
      delete next.PreviousSpecVersion;
    }
    tx.update("services", next);
  };
}
