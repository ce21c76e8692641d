/**
 * The leader removes etcd members that no manager stands behind any more. A manager removes its
 * own member when it is demoted or leaves, but a dead one cannot: after `docker node demote` (and
 * `node rm`) of a manager that is gone for good, or after a join that added a member which never
 * started, the member would stay and count toward etcd's quorum forever (SwarmKit's leader removes
 * raft members the same way on demotion). A member is removed once its node has been neither a
 * manager, nor up, nor part of the election for a grace period (a demoted manager that is up
 * removes its own member), and only when the quorum allows (SwarmKit's CanRemoveMember).
 */
import type { Node } from "../api/index.ts";
import type { Clock, Logger } from "../base/index.ts";
import { canRemoveMember, type EtcdMemberInfo } from "../etcd/index.ts";
import type { Store } from "../store/types.ts";

export interface ReaperTiming {
  periodMs: number;
  /** How long a member must have looked abandoned before it goes. */
  graceMs: number;
}

export const defaultReaperTiming: ReaperTiming = { periodMs: 10_000, graceMs: 60_000 };

/** A member's key in `since`: its name once started, else its etcd ID. */
const keyOf = (m: EtcdMemberInfo): string => m.name || `id:${m.id}`;

/**
 * Pure: the members to remove now (etcd IDs) and the updated first-seen-abandoned times. `live`
 * holds the node IDs taking part in the leader election.
 */
export function abandonedMembers(
  members: readonly EtcdMemberInfo[],
  nodes: readonly Node[],
  live: ReadonlySet<string>,
  since: ReadonlyMap<string, number>,
  now: number,
  graceMs: number,
): { remove: string[]; since: Map<string, number> } {
  const managers = new Set(nodes.filter((n) => n.Spec?.Role === "manager").map((n) => n.ID));
  // A node still up removes its own member (a demotion under way), whatever its role says.
  const up = new Set(nodes.filter((n) => n.Status?.State === "ready").map((n) => n.ID));
  const next = new Map<string, number>();
  for (const m of members) {
    if (managers.has(m.name) || live.has(m.name) || up.has(m.name)) continue;
    next.set(keyOf(m), since.get(keyOf(m)) ?? now);
  }
  const quorumView = members.map((m) => ({ id: m.id, reachable: live.has(m.name) }));
  const remove: string[] = [];
  for (const m of members) {
    const first = next.get(keyOf(m));
    if (first === undefined || now - first < graceMs) continue;
    const left = quorumView.filter((v) => !remove.includes(v.id));
    if (canRemoveMember(left, m.id)) remove.push(m.id);
  }
  return { remove, since: next };
}

export interface ReaperDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  membership: { list(): Promise<EtcdMemberInfo[]>; removeId(id: string): Promise<void> };
  /** Node IDs of the managers taking part in the election now. */
  liveManagers(): Promise<ReadonlySet<string>>;
  timing?: ReaperTiming;
}

/** The leader-only loop. */
export async function runEtcdReaper(deps: ReaperDeps, signal: AbortSignal): Promise<void> {
  const { clock, logger } = deps;
  const timing = deps.timing ?? defaultReaperTiming;
  let since = new Map<string, number>();
  while (!signal.aborted) {
    await clock.sleep(timing.periodMs, signal).catch(() => undefined);
    if (signal.aborted) return;
    try {
      const [members, live] = await Promise.all([deps.membership.list(), deps.liveManagers()]);
      const nodes = deps.store.view((tx) => tx.list("nodes"));
      const decision = abandonedMembers(members, nodes, live, since, clock.now(), timing.graceMs);
      since = decision.since;
      for (const id of decision.remove) {
        const m = members.find((x) => x.id === id);
        logger.info(
          { member: id, name: m?.name, peerUrls: m?.peerUrls },
          "removing an etcd member no manager stands behind",
        );
        await deps.membership.removeId(id);
      }
    } catch (err) {
      logger.warn({ err }, "could not check the etcd members");
    }
  }
}
