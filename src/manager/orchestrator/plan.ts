/**
 * Decisions as plain data, and the working set a reconcile step builds them in. A step may touch
 * one task twice (a restart sets desired SHUTDOWN, a scale-down then REMOVE); the plan keeps the
 * latest version of each task so the controller writes each object once, in one transaction.
 */
import type { SwarmTask, TaskStateName } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { desiredOf, isoTime } from "../common/index.ts";

export interface Decisions {
  /** New tasks (state NEW). */
  create: SwarmTask[];
  /** Existing tasks with a new desired state (full objects, as read plus the change). */
  update: SwarmTask[];
  /** IDs of tasks to delete from the store. */
  delete: string[];
  /** Run the step again at this time (ms) even if nothing changes: a restart delay falls due. */
  wakeAt?: number;
}

export const noDecisions = (): Decisions => ({ create: [], update: [], delete: [] });

export class Plan {
  private readonly current = new Map<string, SwarmTask>();
  private readonly created = new Set<string>();
  private readonly updated = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly bySlot = new Map<string, Set<string>>();
  private wake: number | undefined;

  /**
   * `slotOf` names the slot a task belongs to (the reconcilers pass `slotKey`); the default, the
   * slot number, is right for replicated services and replicated jobs.
   */
  constructor(
    tasks: Iterable<SwarmTask>,
    readonly now: number,
    readonly slotOf: (t: SwarmTask) => string = (t) => `slot:${t.Slot ?? 0}`,
  ) {
    for (const t of tasks) this.add(t);
  }

  private add(t: SwarmTask): void {
    this.current.set(t.ID, t);
    const key = this.slotOf(t);
    const ids = this.bySlot.get(key);
    if (ids) ids.add(t.ID);
    else this.bySlot.set(key, new Set([t.ID]));
  }

  /** The tasks of one slot as they will be after the decisions so far. */
  slot(key: string): SwarmTask[] {
    return [...(this.bySlot.get(key) ?? [])].flatMap((id) => this.current.get(id) ?? []);
  }

  /** The tasks as they will be after the decisions so far, in ID order. */
  tasks(): SwarmTask[] {
    return [...this.current.values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  /** The same tasks in no particular order (cheaper than `tasks()`). */
  values(): IterableIterator<SwarmTask> {
    return this.current.values();
  }

  get(id: string): SwarmTask | undefined {
    return this.current.get(id);
  }

  create(t: SwarmTask): void {
    this.add(t);
    this.created.add(t.ID);
  }

  /** Replaces a task with a modified copy (same ID). */
  replace(t: SwarmTask): void {
    if (!this.current.has(t.ID)) return;
    this.current.set(t.ID, t);
    if (!this.created.has(t.ID)) this.updated.add(t.ID);
  }

  /** Raises the desired state; desired state never moves backwards (false if it would). */
  setDesired(t: SwarmTask, state: TaskStateName): boolean {
    const latest = this.current.get(t.ID) ?? t;
    if (desiredOf(latest) >= TaskStates[state]) return false;
    this.replace({ ...latest, DesiredState: state, UpdatedAt: isoTime(this.now) });
    return true;
  }

  delete(id: string): void {
    const t = this.current.get(id);
    if (!t) return;
    this.current.delete(id);
    this.bySlot.get(this.slotOf(t))?.delete(id);
    if (this.created.delete(id)) return;
    this.updated.delete(id);
    this.deleted.add(id);
  }

  wakeAt(at: number): void {
    if (at > this.now && (this.wake === undefined || at < this.wake)) this.wake = at;
  }

  decisions(): Decisions {
    const pick = (ids: Set<string>) => [...ids].sort().map((id) => this.current.get(id) as SwarmTask);
    return {
      create: pick(this.created),
      update: pick(this.updated),
      delete: [...this.deleted].sort(),
      ...(this.wake !== undefined ? { wakeAt: this.wake } : {}),
    };
  }
}
