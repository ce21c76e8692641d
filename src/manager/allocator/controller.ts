/** The allocator loop (leader only): new tasks → pending, in one batch per pass. */
import type { Clock, Logger } from "../../base/index.ts";
import { timestamp } from "../../base/index.ts";
import type { Store, WriteTx } from "../../store/types.ts";
import { runControllerLoop } from "../common/loop.ts";
import { allocateTasks } from "./allocate.ts";

export interface AllocatorDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

export async function allocatorStep(deps: AllocatorDeps): Promise<void> {
  const tasks = deps.store.view((tx) => tx.list("tasks"));
  const updates = allocateTasks(tasks, timestamp(deps.clock));
  if (updates.length === 0) return;
  await deps.store.batch(updates.map((task) => (tx: WriteTx) => tx.update("tasks", task)));
}

export function runAllocator(deps: AllocatorDeps, signal: AbortSignal): Promise<void> {
  return runControllerLoop(
    {
      name: "allocator",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["tasks"],
      step: async () => {
        await allocatorStep(deps);
        return undefined;
      },
    },
    signal,
  );
}
