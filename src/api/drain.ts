/**
 * The drain period, a shoal extension set per service by a label. A task that serves traffic leaves
 * every backend set (VIP rules, service DNS, routing mesh) as soon as its desired state moves past
 * running; its node then keeps it running for the drain period, so that every node has dropped it
 * from its rules and requests already sent to it can finish, and only then sends the stop signal
 * (after which the stop grace period applies as usual). Swarm does the same with a fixed 2 s
 * (moby's `defaultGossipConvergeDelay`, whose source comment asks for it to be configurable).
 *
 * The manager validates the label at service create/update; the agent reads it from the task's
 * service annotations, so a change applies to tasks created after it (`--force` replaces them).
 */
import { parseGoDuration } from "../base/index.ts";

export const DRAIN_PERIOD_LABEL = "io.shoal.drain-period";

/**
 * 3 s: Swarm's 2 s plus a margin, because a shoal node reloads the VIP rules of its containers one
 * netns at a time, so the last container on a busy node sees the change a few hundred ms after the
 * first. It costs that much per batch of a stop-first update and nothing to start-first ones (the
 * replacement already serves while the old task drains).
 */
export const DEFAULT_DRAIN_PERIOD_MS = 3000;

/** The drain period the labels ask for, or why the label is unusable. */
export function drainPeriodOf(
  labels: Readonly<Record<string, string>> | undefined,
): { ok: true; ms: number } | { ok: false; reason: string } {
  const text = labels?.[DRAIN_PERIOD_LABEL];
  if (text === undefined) return { ok: true, ms: DEFAULT_DRAIN_PERIOD_MS };
  let ns: number;
  try {
    ns = parseGoDuration(text.trim());
  } catch (err) {
    return { ok: false, reason: `${err instanceof Error ? err.message : String(err)} (e.g. 5s, 500ms, 0s)` };
  }
  if (ns < 0) return { ok: false, reason: "must not be negative" };
  return { ok: true, ms: Math.round(ns / 1e6) };
}
