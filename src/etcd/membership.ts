/**
 * Changing the etcd cluster's membership through a running member (etcd's Cluster API): a new
 * manager is added before its member starts, a leaving one removed before it stops. The quorum rule
 * for removals is SwarmKit's `CanRemoveMember`; the caller decides which members are reachable.
 */
import type { Etcd3 } from "etcd3";
import { type Clock, failedPrecondition, type Logger, unavailable } from "../base/index.ts";
import type { EtcdMemberState } from "./member.ts";

export interface EtcdMemberInfo {
  /** etcd's member ID (decimal string). */
  id: string;
  /** Empty until the member has started once. */
  name: string;
  peerUrls: string[];
}

/**
 * The `--initial-cluster` value for a member about to start: every member's name and peer URL; the
 * one not started yet (no name) is the newcomer.
 */
export function initialClusterOf(members: EtcdMemberInfo[], name: string, peerUrl: string): string {
  const parts = members.map((m) => {
    const url = m.peerUrls[0] ?? "";
    return `${m.name || (url === peerUrl ? name : m.id)}=${url}`;
  });
  if (!members.some((m) => m.peerUrls.includes(peerUrl))) parts.push(`${name}=${peerUrl}`);
  return parts.join(",");
}

/**
 * SwarmKit's CanRemoveMember: removing `id` is allowed only if the reachable members left still
 * form a quorum of the members left, `(n-1)/2+1` for n members before the removal.
 */
export function canRemoveMember(
  members: ReadonlyArray<{ id: string; reachable: boolean }>,
  id: string,
): boolean {
  const left = members.filter((m) => m.id !== id);
  const reachableLeft = left.filter((m) => m.reachable).length;
  const quorum = Math.floor(left.length / 2) + 1;
  return left.length > 0 && reachableLeft >= quorum;
}

/**
 * etcd refuses a membership change while a member connected less than 5 s ago (its health
 * interval): "unhealthy cluster". Such refusals are retried for this long.
 */
const CHANGE_RETRY_MS = 20_000;
const RETRYABLE = /unhealthy|not enough started|less than quorum/i;
/** How many 100 ms polls `removeLocal` waits for the local member's exit after a failed call. */
const LOCAL_EXIT_POLLS = 30;

export class EtcdMembership {
  constructor(
    private readonly client: Etcd3,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async list(): Promise<EtcdMemberInfo[]> {
    const res = await this.client.cluster.memberList({});
    return res.members.map(toInfo);
  }

  /**
   * Adds a voting member with this peer URL (idempotent: an existing one is returned as is) and
   * answers the member list to start it with. Retries while etcd calls the cluster unhealthy.
   */
  async add(peerUrl: string): Promise<EtcdMemberInfo[]> {
    return this.retrying(`add ${peerUrl}`, async () => {
      const members = await this.list();
      if (members.some((m) => m.peerUrls.includes(peerUrl))) return members;
      const res = await this.client.cluster.memberAdd({ peerURLs: [peerUrl] });
      this.log.info({ peerUrl, id: res.member.ID }, "etcd member added");
      return res.members.map(toInfo);
    });
  }

  /** Removes the member with this name; absent is fine (already removed). */
  async remove(name: string): Promise<void> {
    await this.retrying(`remove ${name}`, async () => {
      const all = await this.list();
      const member = all.find((m) => m.name === name);
      if (!member) return;
      if (all.length === 1) throw failedPrecondition("refusing to remove the last etcd member");
      await this.client.cluster.memberRemove({ ID: member.id });
      this.log.info({ name, id: member.id }, "etcd member removed");
    });
  }

  /**
   * Removes this node's own member through it. etcd commits the removal and then stops that very
   * member, which can drop the call before it answers; the removal is done once the local member
   * has exited as removed, whatever the call said (a retry could not even list the members).
   */
  async removeLocal(name: string, local: { readonly status: { state: EtcdMemberState } }): Promise<void> {
    const removed = () => local.status.state === "removed";
    if (removed()) return;
    try {
      await this.remove(name);
    } catch (err) {
      // The member's exit trails the dropped call by a moment.
      for (let i = 0; i < LOCAL_EXIT_POLLS && !removed(); i++) await this.clock.sleep(100);
      if (!removed()) throw err;
      this.log.info({ name }, "etcd member removed (the call was cut short by the member's exit)");
    }
  }

  /** Removes the member with this etcd ID (one that never started has no name); absent is fine. */
  async removeId(id: string): Promise<void> {
    await this.retrying(`remove member ${id}`, async () => {
      const all = await this.list();
      if (!all.some((m) => m.id === id)) return;
      if (all.length === 1) throw failedPrecondition("refusing to remove the last etcd member");
      await this.client.cluster.memberRemove({ ID: id });
      this.log.info({ id }, "etcd member removed");
    });
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + CHANGE_RETRY_MS;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        if (!RETRYABLE.test(text)) throw err;
        if (this.clock.now() > deadline) throw unavailable(`etcd refused to ${what}: ${text}`);
        this.log.debug({ err: text }, `etcd refused to ${what}; retrying`);
        await this.clock.sleep(500);
      }
    }
  }
}

function toInfo(m: { ID: string; name: string; peerURLs: string[] }): EtcdMemberInfo {
  return { id: String(m.ID), name: m.name, peerUrls: m.peerURLs };
}
