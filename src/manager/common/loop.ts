/**
 * The one way a manager controller runs: watch the tables it cares about, and after each burst of
 * changes (or when a timer it asked for falls due) run one reconcile step. The step is
 * `view → pure decision → one transaction`; this runner owns only the when.
 *
 * Level-triggered on purpose: a step always decides from the whole current state, so a missed or
 * coalesced event can never leave the cluster unreconciled.
 */
import type { Clock, Logger, Timer } from "../../base/index.ts";
import type { Store, TableName } from "../../store/types.ts";

export interface StepResult {
  /** Run again at this time (ms since epoch) even if nothing changes, e.g. a delayed restart. */
  wakeAt?: number;
}

export interface ControllerLoopOptions {
  name: string;
  store: Store;
  clock: Clock;
  logger: Logger;
  tables: readonly TableName[];
  step: (now: number) => Promise<StepResult | undefined>;
  /**
   * Least time between the starts of two steps. A change after a quiet spell is handled at once
   * (a lone container death is replaced without waiting); changes arriving faster fold into at
   * most one step per interval, so a burst of status updates does not re-read every table for
   * each of them.
   */
  minIntervalMs?: number;
  /** Pause after a failed step before trying again. */
  retryMs?: number;
}

/** Runs until the signal aborts; resolves once the last step has finished. */
export async function runControllerLoop(opts: ControllerLoopOptions, signal: AbortSignal): Promise<void> {
  const { clock, logger } = opts;
  const minIntervalMs = opts.minIntervalMs ?? 20;
  let lastStep = Number.NEGATIVE_INFINITY;
  const retryMs = opts.retryMs ?? 500;
  let dirty = true;
  let wake: (() => void) | undefined;
  let timer: Timer | undefined;
  const kick = () => {
    dirty = true;
    wake?.();
  };
  const watching = (async () => {
    try {
      for await (const _event of opts.store.watch({ tables: opts.tables, signal })) kick();
    } catch (err) {
      if (!signal.aborted) logger.error({ err, loop: opts.name }, "controller watch failed");
    }
  })();
  signal.addEventListener("abort", kick, { once: true });

  while (!signal.aborted) {
    if (!dirty) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      if (signal.aborted) break;
      const wait = lastStep + minIntervalMs - clock.now();
      if (wait > 0) await clock.sleep(wait).catch(() => undefined);
      // the events already delivered (one transaction's, say) are taken in by the same step
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
    dirty = false;
    timer?.cancel();
    timer = undefined;
    lastStep = clock.now();
    try {
      const result = await opts.step(lastStep);
      if (result?.wakeAt !== undefined) {
        timer = clock.setTimer(Math.max(0, result.wakeAt - clock.now()), kick);
      }
    } catch (err) {
      if (signal.aborted) break;
      logger.warn({ err, loop: opts.name }, "controller step failed; retrying");
      timer = clock.setTimer(retryMs, kick);
    }
  }
  timer?.cancel();
  await watching;
}
