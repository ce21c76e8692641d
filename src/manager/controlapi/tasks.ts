/**
 * Tasks: `GET /tasks` with moby's filters (service and node resolved by name, label matching the
 * *service's* labels, `_up-to-date` for the CLI's progress polling) and `GET /tasks/{id}`.
 */
import type { SwarmService, SwarmTask, Task } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { internal } from "../../base/index.ts";
import type { ReadTx } from "../../store/types.ts";
import { isTaskDirty } from "../common/task-dirty.ts";
import type { CoreDeps } from "./deps.ts";
import {
  type Filters,
  filterValues,
  labelFilterMap,
  matchesExact,
  matchesLabels,
  matchesPrefix,
  validateFilterKeys,
} from "./filters.ts";
import { resolveNode } from "./nodes.ts";
import { resolveObject } from "./resolve.ts";
import { publicTask } from "./service-view.ts";
import { resolveService } from "./services.ts";

const TASK_FILTERS = ["name", "id", "label", "service", "node", "desired-state", "_up-to-date", "runtime"];

/** SwarmKit's naming.Task: the task's own name, else `<service>.<slot or node ID>.<task ID>`. */
export function taskName(tx: ReadTx, t: SwarmTask): string {
  if (t.Name) return t.Name;
  const service = t.ServiceAnnotations?.Name ?? tx.get("services", t.ServiceID ?? "")?.Spec?.Name ?? "";
  const slot = t.Slot ? String(t.Slot) : (t.NodeID ?? "");
  return `${service}.${slot}.${t.ID}`;
}

/** The runtime a task spec uses: shoal runs containers only. */
const runtimeOf = (t: Task): string => (t.Spec?.ContainerSpec ? "container" : (t.Spec?.Runtime ?? ""));

function desiredStates(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const state = v.toLowerCase();
    if (state in TaskStates) out.push(state);
    else if (v !== "") throw internal(`Invalid desired-state filter: '${v}'`);
  }
  return out;
}

const byId = (a: { ID: string }, b: { ID: string }): number => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0);

export function listTasks(deps: CoreDeps, filters: Filters = {}): Task[] {
  validateFilterKeys(filters, TASK_FILTERS);
  return deps.store.view((tx) => {
    const services = filterValues(filters, "service").map((s) => resolveService(tx, s).ID);
    const nodes = filterValues(filters, "node").map((n) => resolveNode(tx, n).ID);
    const givenRuntimes = filterValues(filters, "runtime");
    const runtimes = givenRuntimes.length > 0 ? givenRuntimes : ["container", ""];
    const desired = desiredStates(filterValues(filters, "desired-state"));
    const names = filterValues(filters, "name");
    const ids = filterValues(filters, "id");
    const labels = labelFilterMap(filterValues(filters, "label"));
    const upToDate = filterValues(filters, "_up-to-date").length > 0;
    const candidates: SwarmTask[] =
      services.length > 0 ? services.flatMap((id) => tx.lookup("tasks", "service", id)) : tx.list("tasks");
    return candidates
      .filter(
        (t) =>
          matchesPrefix(taskName(tx, t), names) &&
          matchesPrefix(t.ID, ids) &&
          matchesLabels(serviceLabels(tx, t), labels) &&
          matchesExact(t.ServiceID ?? "", services) &&
          matchesExact(t.NodeID ?? "", nodes) &&
          matchesExact(runtimeOf(t), runtimes) &&
          matchesExact(t.DesiredState ?? "new", desired) &&
          (!upToDate || isUpToDate(tx, t)),
      )
      .sort(byId)
      .map(publicTask);
  });
}

/** Labels of the task's service as the task recorded them, else as the service has them now. */
function serviceLabels(tx: ReadTx, t: SwarmTask): Record<string, string> | undefined {
  return t.ServiceAnnotations?.Labels ?? tx.get("services", t.ServiceID ?? "")?.Spec?.Labels;
}

function isUpToDate(tx: ReadTx, t: SwarmTask): boolean {
  const service = tx.get("services", t.ServiceID ?? "") as SwarmService | undefined;
  if (!service) return false;
  return !isTaskDirty(service, t, tx.get("nodes", t.NodeID ?? ""));
}

/** The stored task `input` names (full ID, task name, unique ID prefix). */
export function resolveTask(tx: ReadTx, input: string): SwarmTask {
  return resolveObject("task", input, tx.list("tasks"), (t) => [taskName(tx, t)]);
}

export function getTask(deps: CoreDeps, input: string): Task {
  return publicTask(deps.store.view((tx) => resolveTask(tx, input)));
}
