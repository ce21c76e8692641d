/**
 * The scheduler loop (leader only): whenever nodes or tasks change, one pure scheduling pass over
 * the snapshot, then its placements and explanations written back. A task that changed since the
 * snapshot fails its version check and is simply scheduled again on the next pass.
 */
import type { Clock, Logger } from "../../base/index.ts";
import type { Store, WriteTx } from "../../store/types.ts";
import { runControllerLoop } from "../common/loop.ts";
import { schedule } from "./schedule.ts";

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

export async function schedulerStep(deps: SchedulerDeps, now: number): Promise<void> {
  const { nodes, tasks } = deps.store.view((tx) => ({ nodes: tx.list("nodes"), tasks: tx.list("tasks") }));
  if (!tasks.some((t) => t.Status?.State === "pending")) return;
  const decisions = schedule({ nodes, tasks, now });
  if (decisions.updates.length === 0) return;
  const units = decisions.updates.map((task) => (tx: WriteTx) => tx.update("tasks", task));
  const errors = await deps.store.batch(units);
  const failed = errors.filter(Boolean).length;
  deps.logger.debug(
    { assigned: decisions.assignments.size, pending: decisions.pending.size, failed },
    "scheduling pass",
  );
}

export function runScheduler(deps: SchedulerDeps, signal: AbortSignal): Promise<void> {
  return runControllerLoop(
    {
      name: "scheduler",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["nodes", "tasks"],
      step: async (now) => {
        await schedulerStep(deps, now);
        return undefined;
      },
    },
    signal,
  );
}
