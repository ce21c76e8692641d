/**
 * Making tasks (SwarmKit `orchestrator.NewTask`) and grouping them into slots. A task's spec is a
 * copy of the service's task template at creation and never changes; restarts and updates make a
 * new task in the same slot (replicated: slot number from 1; global: the node, slot 0).
 */
import type { SwarmService, SwarmTask } from "../../api/index.ts";
import type { Ids } from "../../base/index.ts";
import { isJobMode, isoTime, parseTime, serviceMode, specsEqual } from "../common/index.ts";

export const MSG_CREATED = "created";

/** Where a new task goes: a replicated slot, or a node (global services and global jobs). */
export type TaskPlace = { slot: number } | { nodeId: string };

/**
 * A new task for the service in Swarm's shape: state NEW ("created"), desired RUNNING (COMPLETE
 * for jobs, which also carry the service's job iteration), spec and endpoint spec copied from the
 * service, the service's name and labels as `ServiceAnnotations`.
 */
export function newTask(service: SwarmService, place: TaskPlace, ids: Ids, now: number): SwarmTask {
  const at = isoTime(now);
  const job = isJobMode(serviceMode(service));
  const spec = service.Spec;
  const task: SwarmTask = {
    ID: ids.newId(),
    ServiceID: service.ID,
    Slot: "slot" in place ? place.slot : 0,
    ...("nodeId" in place ? { NodeID: place.nodeId } : {}),
    Spec: structuredClone(spec?.TaskTemplate ?? {}),
    ...(service.SpecVersion ? { SpecVersion: { ...service.SpecVersion } } : {}),
    ServiceAnnotations: { Name: spec?.Name ?? "", Labels: { ...(spec?.Labels ?? {}) } },
    Endpoint: { Spec: structuredClone(spec?.EndpointSpec ?? {}) },
    Status: { State: "new", Timestamp: at, Message: MSG_CREATED },
    DesiredState: job ? "complete" : "running",
    CreatedAt: at,
    UpdatedAt: at,
  };
  if (job) task.JobIteration = { Index: service.JobStatus?.JobIteration?.Index ?? 0 };
  return task;
}

/** The key of the slot a task belongs to: its slot number, or its node for node-bound modes. */
export function slotKey(service: SwarmService, t: SwarmTask): string {
  const mode = serviceMode(service);
  return mode === "global" || mode === "global-job" ? `node:${t.NodeID ?? ""}` : `slot:${t.Slot ?? 0}`;
}

/** Tasks grouped by slot key. */
export function groupSlots(service: SwarmService, tasks: Iterable<SwarmTask>): Map<string, SwarmTask[]> {
  const slots = new Map<string, SwarmTask[]>();
  for (const t of tasks) {
    const key = slotKey(service, t);
    const slot = slots.get(key) ?? [];
    slot.push(t);
    slots.set(key, slot);
  }
  return slots;
}

/** Same spec version: by SpecVersion when both carry one, else by the specs themselves. */
export function sameSpecVersion(a: SwarmTask, b: SwarmTask): boolean {
  const av = a.SpecVersion?.Index;
  const bv = b.SpecVersion?.Index;
  if (av !== undefined && bv !== undefined) return av === bv;
  return specsEqual(a.Spec, b.Spec);
}

/** SwarmKit's TasksByTimestamp order: applied_at, else status timestamp; tasks with neither first. */
export function byTimestamp(a: SwarmTask, b: SwarmTask): number {
  const ta = parseTime(a.Status?.AppliedAt) ?? parseTime(a.Status?.Timestamp) ?? Number.NEGATIVE_INFINITY;
  const tb = parseTime(b.Status?.AppliedAt) ?? parseTime(b.Status?.Timestamp) ?? Number.NEGATIVE_INFINITY;
  return ta - tb || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0);
}

/** Creation order (tasks without CreatedAt first). */
export function byCreation(a: SwarmTask, b: SwarmTask): number {
  const ta = parseTime(a.CreatedAt) ?? Number.NEGATIVE_INFINITY;
  const tb = parseTime(b.CreatedAt) ?? Number.NEGATIVE_INFINITY;
  return ta - tb || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0);
}
