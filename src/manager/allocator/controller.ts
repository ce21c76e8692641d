/**
 * The allocator loop (leader only). Each pass: read networks, services, tasks and nodes; rebuild
 * what is handed out from them (so a new leader starts from the store, never from memory); plan
 * the missing allocations (pass.ts, pure); commit them with guards (commit.ts). A pass that lost a
 * race re-runs at once from a fresh snapshot. Only the serial cursors live across passes.
 */
import type { NetworkedNode, NetworkedTask } from "../../api/index.ts";
import type { Clock, Logger } from "../../base/index.ts";
import { ErrorCode, ShoalError, timestamp } from "../../base/index.ts";
import type { Store } from "../../store/types.ts";
import { runControllerLoop } from "../common/loop.ts";
import { commitPlan } from "./commit.ts";
import { planPass } from "./pass.ts";
import { type AllocSnapshot, rebuildState } from "./rebuild.ts";
import { allocatorConfig, type Cursors } from "./state.ts";

export interface AllocatorDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

const MAX_ATTEMPTS = 5;

/** What the allocator keeps between passes of one leadership term. */
export interface AllocatorMemory {
  cursors: Cursors;
  /** Problems already logged, so a waiting object is reported once. */
  reported: Set<string>;
}

export const newAllocatorMemory = (): AllocatorMemory => ({ cursors: new Map(), reported: new Set() });

export function readSnapshot(store: Store): AllocSnapshot & { pool?: string[] | null; subnetSize?: number } {
  return store.view((tx) => {
    const cluster = tx.list("clusters")[0];
    return {
      networks: tx.list("networks"),
      services: tx.list("services"),
      tasks: tx.list("tasks") as NetworkedTask[],
      nodes: tx.list("nodes") as NetworkedNode[],
      pool: cluster?.DefaultAddrPool ?? null,
      ...(cluster?.SubnetSize ? { subnetSize: cluster.SubnetSize } : {}),
    };
  });
}

/** One pass (re-run after a lost race); returns how many objects it wrote. */
export async function allocatorStep(deps: AllocatorDeps, memory = newAllocatorMemory()): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const snap = readSnapshot(deps.store);
    const state = rebuildState(snap, allocatorConfig(snap.pool, snap.subnetSize), memory.cursors);
    for (const c of state.conflicts) report(deps.logger, memory, c, "warn");
    const plan = planPass(snap, state, timestamp(deps.clock));
    for (const p of plan.problems) report(deps.logger, memory, p, "debug");
    try {
      const written = await commitPlan(deps.store, snap, plan);
      memory.cursors = state.saveCursors();
      return written;
    } catch (err) {
      const raced = err instanceof ShoalError && err.code === ErrorCode.SequenceConflict;
      if (!raced || attempt >= MAX_ATTEMPTS) throw err;
      deps.logger.debug({ err: (err as Error).message, attempt }, "allocation pass raced; re-running");
    }
  }
}

function report(logger: Logger, memory: AllocatorMemory, what: string, level: "warn" | "debug"): void {
  if (memory.reported.has(what)) return;
  if (memory.reported.size > 10_000) memory.reported.clear();
  memory.reported.add(what);
  if (level === "warn") logger.warn({ problem: what }, "allocation state conflict in the store");
  else logger.debug({ problem: what }, "allocation waits");
}

export function runAllocator(deps: AllocatorDeps, signal: AbortSignal): Promise<void> {
  const memory = newAllocatorMemory();
  return runControllerLoop(
    {
      name: "allocator",
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      tables: ["tasks", "services", "networks", "nodes", "clusters"],
      step: async () => {
        await allocatorStep(deps, memory);
        return undefined;
      },
    },
    signal,
  );
}
