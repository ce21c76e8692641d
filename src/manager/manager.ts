/**
 * A manager: the dispatcher (on every manager) and, while this manager leads, the controller loops.
 * The loops only meet through the store, so starting and stopping them with leadership is all the
 * coordination there is.
 */
import type { Clock, Ids, Logger } from "../base/index.ts";
import type { Store } from "../store/types.ts";
import { runAllocator } from "./allocator/index.ts";
import { runRootRotation } from "./ca-rotation/index.ts";
import type { DispatcherConfig } from "./dispatcher/index.ts";
import { Dispatcher } from "./dispatcher/index.ts";
import { runOrchestrator } from "./orchestrator/controller.ts";
import { runScheduler } from "./scheduler/controller.ts";
import { runConstraintEnforcer } from "./scheduler/enforcer-controller.ts";

/** A leader-only loop: runs until its signal aborts. */
export type LeaderLoop = (signal: AbortSignal) => Promise<void>;

/**
 * Leader election as the manager needs it: call `onElected` with a signal that aborts when
 * leadership is lost; keep campaigning until `signal` aborts.
 */
export type Leadership = (
  signal: AbortSignal,
  onElected: (term: AbortSignal) => Promise<void>,
) => Promise<void>;

export interface ManagerDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  leadership: Leadership;
  dispatcher?: Partial<DispatcherConfig>;
  /** Extra leader loops (orchestrators, reaper...) registered by the composition root. */
  loops?: Array<{ name: string; run: (deps: LoopDeps, signal: AbortSignal) => Promise<void> }>;
}

export interface LoopDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

export class Manager {
  readonly dispatcher: Dispatcher;
  private leading = false;

  constructor(private readonly deps: ManagerDeps) {
    this.dispatcher = new Dispatcher({
      store: deps.store,
      clock: deps.clock,
      ids: deps.ids,
      logger: deps.logger.child({ module: "manager/dispatcher" }),
      config: deps.dispatcher,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns and runs the leader loops while elected; resolves when stopped. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.deps.leadership(signal, (term) => this.lead(term));
    } finally {
      await this.dispatcher.stop();
    }
  }

  private supervise(
    name: string,
    run: (signal: AbortSignal) => Promise<void>,
    term: AbortSignal,
  ): Promise<void> {
    return superviseLoop(name, run, term, this.deps.clock, this.deps.logger);
  }

  private async lead(term: AbortSignal): Promise<void> {
    const { logger } = this.deps;
    const loopDeps: LoopDeps = { store: this.deps.store, clock: this.deps.clock, ids: this.deps.ids, logger };
    const loops: Array<{ name: string; run: (signal: AbortSignal) => Promise<void> }> = [
      {
        name: "allocator",
        run: (s) => runAllocator({ ...loopDeps, logger: logger.child({ module: "manager/allocator" }) }, s),
      },
      {
        name: "orchestrator",
        run: (s) =>
          runOrchestrator({ ...loopDeps, logger: logger.child({ module: "manager/orchestrator" }) }, s),
      },
      {
        name: "scheduler",
        run: (s) => runScheduler({ ...loopDeps, logger: logger.child({ module: "manager/scheduler" }) }, s),
      },
      {
        name: "constraint-enforcer",
        run: (s) =>
          runConstraintEnforcer(
            { ...loopDeps, logger: logger.child({ module: "manager/constraintenforcer" }) },
            s,
          ),
      },
      {
        name: "ca-rotation",
        run: (s) =>
          runRootRotation({ ...loopDeps, logger: logger.child({ module: "manager/ca-rotation" }) }, s),
      },
      ...(this.deps.loops ?? []).map((l) => ({
        name: l.name,
        run: (s: AbortSignal) =>
          l.run({ ...loopDeps, logger: logger.child({ module: `manager/${l.name}` }) }, s),
      })),
    ];
    this.leading = true;
    logger.info({ loops: loops.map((l) => l.name) }, "became leader");
    try {
      await Promise.all(loops.map((l) => this.supervise(l.name, l.run, term)));
    } finally {
      this.leading = false;
      logger.info({}, "leadership ended");
    }
  }
}

/** Keeps one leader loop running for the whole term: a crashed loop is logged and restarted. */
async function superviseLoop(
  name: string,
  run: (signal: AbortSignal) => Promise<void>,
  term: AbortSignal,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  while (!term.aborted) {
    try {
      await run(term);
    } catch (err) {
      logger.error({ err, loop: name }, "leader loop crashed; restarting it");
      await clock.sleep(1000, term).catch(() => undefined);
    }
  }
}

/** Leadership for a manager that is alone: it leads until stopped. */
export const soleLeadership: Leadership = async (signal, onElected) => {
  if (!signal.aborted) await onElected(signal);
};
