/**
 * The orchestrators' loop (leader only): on every change to services, tasks, nodes or the cluster,
 * reconcile each service by its mode, reap old tasks, and write all decisions back. Each write is
 * its own unit, so one task that changed under us (a status report racing the pass) costs only
 * that write; the change itself triggers the next pass, which decides again from fresh state.
 */
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import type { Clock, Ids, Logger } from "../../base/index.ts";
import type { Store, WriteTx } from "../../store/types.ts";
import { serviceMode } from "../common/index.ts";
import { runControllerLoop, type StepResult } from "../common/loop.ts";
import { reconcileGlobal } from "./global.ts";
import { reconcileGlobalJob, reconcileReplicatedJob } from "./jobs.ts";
import type { Decisions } from "./plan.ts";
import { reapTasks } from "./reaper.ts";
import { type ReconcileInput, type ReplicatedDecisions, reconcileReplicated } from "./replicated.ts";
import { applyDecisions, mergeDecisions, serviceStatusUnit } from "./update/merge.ts";
import { rollingUpdate, type ServiceStatusChange } from "./update/updater.ts";

export interface OrchestratorDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

export interface OrchestrationSnapshot {
  services: readonly SwarmService[];
  tasks: readonly SwarmTask[];
  nodes: readonly Node[];
  retentionLimit?: number;
}

/** Task decisions plus the services whose UpdateStatus (or, rolling back, spec) changes. */
export interface OrchestrationDecisions extends Decisions {
  services: ServiceStatusChange[];
}

/** Pure: every service's decisions plus the reaper's, merged; `wakeAt` is the earliest asked for. */
export function orchestrate(snapshot: OrchestrationSnapshot, now: number, ids: Ids): OrchestrationDecisions {
  const nodes = new Map(snapshot.nodes.map((n) => [n.ID, n]));
  const byService = new Map<string, SwarmTask[]>();
  for (const t of snapshot.tasks) {
    if (!t.ServiceID) continue;
    const list = byService.get(t.ServiceID);
    if (list) list.push(t);
    else byService.set(t.ServiceID, [t]);
  }
  const out: OrchestrationDecisions = { create: [], update: [], delete: [], services: [] };
  const wake = (at: number | undefined) => {
    if (at !== undefined && (out.wakeAt === undefined || at < out.wakeAt)) out.wakeAt = at;
  };
  for (const service of snapshot.services) {
    const input: ReconcileInput = { service, tasks: byService.get(service.ID) ?? [], nodes, now, ids };
    const d = reconcileService(input);
    if (d.service) out.services.push(d.service);
    out.create.push(...d.create);
    out.update.push(...d.update);
    out.delete.push(...d.delete);
    wake(d.wakeAt);
  }
  const touched = new Set([...out.update.map((t) => t.ID), ...out.delete]);
  const services = new Map(snapshot.services.map((s) => [s.ID, s]));
  for (const id of reapTasks({ tasks: snapshot.tasks, services, retentionLimit: snapshot.retentionLimit })) {
    if (!touched.has(id)) out.delete.push(id);
  }
  return out;
}

function reconcileService(input: ReconcileInput): Decisions & { service?: ServiceStatusChange } {
  switch (serviceMode(input.service)) {
    case "replicated":
      return withRollingUpdate(input, reconcileReplicated(input));
    case "global":
      return withRollingUpdate(input, reconcileGlobal(input));
    case "replicated-job":
      return reconcileReplicatedJob(input);
    case "global-job":
      return reconcileGlobalJob(input);
  }
}

/** The updater runs over the slots the mode reconciler kept, after that reconciler's decisions. */
function withRollingUpdate(
  input: ReconcileInput,
  d: ReplicatedDecisions,
): Decisions & { service?: ServiceStatusChange } {
  const { slots, ...decisions } = d;
  const u = rollingUpdate({ ...input, slots, tasks: applyDecisions(input.tasks, decisions) });
  return { ...mergeDecisions(decisions, u), ...(u.service ? { service: u.service } : {}) };
}

export async function orchestratorStep(deps: OrchestratorDeps, now: number): Promise<StepResult> {
  const snapshot = deps.store.view((tx) => ({
    services: tx.list("services"),
    tasks: tx.list("tasks"),
    nodes: tx.list("nodes"),
    retentionLimit: tx.list("clusters")[0]?.Spec?.Orchestration?.TaskHistoryRetentionLimit,
  }));
  const d = orchestrate(snapshot, now, deps.ids);
  const units: Array<(tx: WriteTx) => void> = [
    ...d.create.map((t) => (tx: WriteTx) => tx.create("tasks", t)),
    ...d.update.map((t) => (tx: WriteTx) => tx.update("tasks", t)),
    ...d.delete.map((id) => (tx: WriteTx) => {
      if (tx.get("tasks", id)) tx.delete("tasks", id);
    }),
    ...d.services.map((c) => serviceStatusUnit(c, now)),
  ];
  if (units.length > 0) {
    const errors = await deps.store.batch(units);
    const failed = errors.filter(Boolean).length;
    deps.logger.debug(
      {
        created: d.create.length,
        updated: d.update.length,
        deleted: d.delete.length,
        services: d.services.length,
        failed,
      },
      "orchestration pass",
    );
  }
  return d.wakeAt !== undefined ? { wakeAt: d.wakeAt } : {};
}

export function runOrchestrator(deps: OrchestratorDeps, signal: AbortSignal): Promise<void> {
  return runControllerLoop(
    {
      name: "orchestrator",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["services", "tasks", "nodes", "clusters"],
      step: (now) => orchestratorStep(deps, now),
    },
    signal,
  );
}
