/**
 * ManagerStatus on every manager's Node, kept by the leader (SwarmKit's leader reports raft member
 * reachability the same way): `Leader` only on the leader, `Reachability` from who takes part in
 * the leader election (a live manager always does), `Addr` as recorded when it joined. A manager
 * unreachable for longer than the grace period is also marked down, so the orchestrator moves its
 * tasks; its agent's next heartbeat makes it ready again (the dispatcher holding the session).
 */
import type { Node } from "../../api/index.ts";
import { timestamp } from "../../base/index.ts";
import type { LoopDeps } from "../manager.ts";

export interface ManagerStatusOptions {
  /** This manager (the leader while the loop runs). */
  selfId: string;
  /** Node IDs of the managers that take part in the election now. */
  liveManagers(): Promise<ReadonlySet<string>>;
  periodMs: number;
  /** How long a manager may be unreachable before its node is marked down. */
  downAfterMs: number;
}

export const defaultManagerStatusTiming = { periodMs: 2000, downAfterMs: 10_000 };

/**
 * The nodes whose ManagerStatus (or, for `down`, Status) must change. Pure: `down` holds the
 * managers unreachable for longer than the grace period and not yet marked down in this episode.
 */
export function managerStatusChanges(
  nodes: readonly Node[],
  live: ReadonlySet<string>,
  leaderId: string,
  down: ReadonlySet<string>,
): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    if (n.Spec?.Role !== "manager") {
      // A demoted manager: its etcd member is gone, so is its manager status.
      if (n.ManagerStatus) out.push({ ...n, ManagerStatus: null });
      continue;
    }
    const reachable = n.ID === leaderId || live.has(n.ID);
    const want = {
      Leader: n.ID === leaderId,
      Reachability: reachable ? ("reachable" as const) : ("unreachable" as const),
      Addr: n.ManagerStatus?.Addr ?? "",
    };
    const cur = n.ManagerStatus;
    const statusChanged = cur?.Leader !== want.Leader || cur?.Reachability !== want.Reachability;
    // A manager without an address has not become an etcd member yet (promotion in progress).
    const markDown = !reachable && down.has(n.ID) && n.Status?.State === "ready" && want.Addr !== "";
    if (!statusChanged && !markDown) continue;
    out.push({
      ...n,
      ManagerStatus: want,
      ...(markDown ? { Status: { ...n.Status, State: "down", Message: "manager unreachable" } } : {}),
    });
  }
  return out;
}

/** The leader-only loop: every period, compare the election's candidates with the store. */
export async function runManagerStatus(
  deps: LoopDeps,
  opts: ManagerStatusOptions,
  signal: AbortSignal,
): Promise<void> {
  const { store, clock, logger } = deps;
  const unreachableSince = new Map<string, number>();
  const markedDown = new Set<string>();
  while (!signal.aborted) {
    try {
      const live = await opts.liveManagers();
      const now = clock.now();
      const nodes = store.view((tx) => tx.list("nodes"));
      const managers = nodes.filter((n) => n.Spec?.Role === "manager");
      const down = new Set<string>();
      for (const n of managers) {
        if (n.ID === opts.selfId || live.has(n.ID)) {
          unreachableSince.delete(n.ID);
          markedDown.delete(n.ID);
          continue;
        }
        const since = unreachableSince.get(n.ID) ?? now;
        unreachableSince.set(n.ID, since);
        if (now - since >= opts.downAfterMs && !markedDown.has(n.ID)) down.add(n.ID);
      }
      const changes = managerStatusChanges(nodes, live, opts.selfId, down);
      if (changes.length > 0) {
        await store.update((tx) => {
          for (const n of changes) {
            const cur = tx.get("nodes", n.ID);
            if (!cur) continue;
            tx.update("nodes", {
              ...cur,
              ManagerStatus: n.ManagerStatus ?? null,
              ...(down.has(n.ID) ? { Status: n.Status } : {}),
              UpdatedAt: timestamp(clock),
            });
          }
        });
        for (const id of down) markedDown.add(id);
      }
    } catch (err) {
      logger.warn({ err }, "could not update manager status");
    }
    await clock.sleep(opts.periodMs, signal).catch(() => undefined);
  }
}
