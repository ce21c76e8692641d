/**
 * The replicated orchestrator loop (leader only), kept thin: on every change to services, tasks or
 * nodes (and when a restart delay falls due) read a snapshot, run `reconcileReplicated` for each
 * replicated service, and write the decisions back.
 *
 * Writes are grouped per slot, one unit per slot, so a restart's "shut down the old task" and
 * "create its replacement" commit together or not at all; units are packed into as few
 * transactions as the backend allows (etcd caps one at 128 writes). Each unit first checks that
 * the service and the slot's tasks are still as the snapshot saw them; if not, it aborts and the
 * next step decides again from fresh state, so nothing is ever decided twice over a stale view.
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { type Clock, type Ids, type Logger, SequenceConflictError } from "../../base/index.ts";
import type { ReadTx, Store, WriteTx } from "../../store/types.ts";
import { groupBy, serviceMode } from "../common/index.ts";
import { runControllerLoop, type StepResult } from "../common/loop.ts";
import type { Decisions } from "./plan.ts";
import { reconcileReplicated } from "./replicated.ts";

export interface ReplicatedControllerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  ids: Ids;
}

type Unit = (tx: WriteTx) => void;

interface Snapshot {
  services: SwarmService[];
  nodes: Map<string, Node>;
  tasksByService: Map<string, SwarmTask[]>;
}

function readSnapshot(tx: ReadTx): Snapshot {
  const tasksByService = groupBy(tx.list("tasks"), (t) => t.ServiceID ?? "");
  return {
    services: tx.list("services").filter((s) => serviceMode(s) === "replicated"),
    nodes: new Map(tx.list("nodes").map((n) => [n.ID, n])),
    tasksByService,
  };
}

const fingerprint = (tasks: readonly SwarmTask[]): string =>
  tasks
    .map((t) => `${t.ID}@${t.Version?.Index ?? 0}`)
    .sort()
    .join(",");

/** One unit per slot touched by the decisions, guarded by the slot's and the service's versions. */
export function unitsFor(service: SwarmService, seen: readonly SwarmTask[], d: Decisions): Unit[] {
  const slotOf = new Map(seen.map((t) => [t.ID, t.Slot ?? 0]));
  const slots = new Map<number, { create: SwarmTask[]; update: SwarmTask[]; delete: string[] }>();
  const slot = (n: number) => {
    const s = slots.get(n) ?? { create: [], update: [], delete: [] };
    slots.set(n, s);
    return s;
  };
  for (const t of d.create) slot(t.Slot ?? 0).create.push(t);
  for (const t of d.update) slot(t.Slot ?? 0).update.push(t);
  for (const id of d.delete) slot(slotOf.get(id) ?? 0).delete.push(id);

  return [...slots.entries()].map(([n, writes]) => (tx: WriteTx) => {
    const current = tx.get("services", service.ID);
    const slotNow = tx.lookup("tasks", "service", service.ID).filter((t) => (t.Slot ?? 0) === n);
    const slotSeen = seen.filter((t) => (t.Slot ?? 0) === n);
    if (
      current?.Version?.Index !== service.Version?.Index ||
      fingerprint(slotNow) !== fingerprint(slotSeen)
    ) {
      throw new SequenceConflictError(`service ${service.ID} slot ${n} changed since the snapshot`);
    }
    for (const t of writes.create) tx.create("tasks", t);
    for (const t of writes.update) tx.update("tasks", t);
    for (const id of writes.delete) tx.delete("tasks", id);
  });
}

/** How soon a pass whose writes lost a race runs again. */
const RETRY_MS = 100;

/** One reconcile pass over every replicated service. */
export async function replicatedStep(deps: ReplicatedControllerDeps, now: number): Promise<StepResult> {
  const snap = deps.store.view(readSnapshot);
  const units: Unit[] = [];
  let wakeAt: number | undefined;
  for (const service of snap.services) {
    const tasks = snap.tasksByService.get(service.ID) ?? [];
    const d = reconcileReplicated({ service, tasks, nodes: snap.nodes, now, ids: deps.ids });
    if (d.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? d.wakeAt, d.wakeAt);
    units.push(...unitsFor(service, tasks, d));
  }
  if (units.length > 0) {
    const errors = await deps.store.batch(units);
    const failed = errors.filter((e) => e !== undefined).length;
    deps.logger.debug({ units: units.length, failed }, "replicated orchestrator pass");
    // A unit that lost a race is decided again right away from fresh state.
    if (failed > 0) wakeAt = Math.min(wakeAt ?? now + RETRY_MS, now + RETRY_MS);
  }
  return wakeAt === undefined ? {} : { wakeAt };
}

export function runReplicatedOrchestrator(
  deps: ReplicatedControllerDeps,
  signal: AbortSignal,
): Promise<void> {
  return runControllerLoop(
    {
      name: "orchestrator/replicated",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["services", "tasks", "nodes"],
      step: (now) => replicatedStep(deps, now),
    },
    signal,
  );
}
