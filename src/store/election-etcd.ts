/**
 * Leader election over etcd with etcd3's lease-based Election: the campaign key lives as long as
 * the candidate's lease (TTL default 5 s, kept alive by the client). A holder that dies loses the
 * lead after about the TTL; a graceful resign hands over at once (~20 ms).
 */
import { type Campaign, Election, type Etcd3 } from "etcd3";
import { backoffDelay, type Clock, type Logger } from "../base/index.ts";
import type { ElectionCallbacks, LeaderElection } from "./election.ts";

export interface EtcdElectionConfig {
  /** The election's name (its etcd key prefix is `election/<name>`). */
  name: string;
  /** This candidate's ID (the node ID), visible to others as the leader ID. */
  candidateId: string;
  /** Lease TTL in whole seconds. */
  ttlSeconds: number;
}

export const defaultEtcdElectionConfig = (candidateId: string): EtcdElectionConfig => ({
  name: "shoal/manager-leader",
  candidateId,
  ttlSeconds: 5,
});

export class EtcdLeaderElection implements LeaderElection {
  constructor(
    private readonly client: Etcd3,
    private readonly config: EtcdElectionConfig,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  async run(signal: AbortSignal, callbacks: ElectionCallbacks): Promise<void> {
    const election = new Election(this.client, this.config.name, this.config.ttlSeconds);
    const observer = await election.observe();
    observer.on("change", (leader) => callbacks.onLeaderChange?.(leader));
    observer.on("error", (err) => this.log.warn({ err: String(err) }, "leader observer error"));
    callbacks.onLeaderChange?.(observer.leader());
    try {
      for (let attempt = 0; !signal.aborted; attempt++) {
        const lost = await this.campaignOnce(election, signal, callbacks);
        if (!lost) break;
        this.log.warn({ err: String(lost), attempt }, "lost the leader election lease; campaigning again");
        await this.clock
          .sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 2000, factor: 2 }), signal)
          .catch(() => {});
      }
    } finally {
      await observer.cancel().catch(() => {});
    }
  }

  /** One campaign; resolves with the error that ended it, or undefined when `signal` aborted. */
  private async campaignOnce(
    election: Election,
    signal: AbortSignal,
    callbacks: ElectionCallbacks,
  ): Promise<Error | undefined> {
    const campaign: Campaign = election.campaign(this.config.candidateId);
    let leadership: AbortController | undefined;
    const ended = new Promise<Error | undefined>((resolve) => {
      campaign.on("error", (err) => resolve(err));
      signal.addEventListener("abort", () => resolve(undefined), { once: true });
    });
    campaign.on("elected", () => {
      if (signal.aborted) return;
      this.log.info({ candidate: this.config.candidateId }, "elected leader");
      leadership = new AbortController();
      callbacks.onElected?.(leadership.signal);
    });
    const err = await ended;
    leadership?.abort(err ?? new Error("resigned"));
    // Resigning revokes the lease; after an error it is gone already, so failures are expected.
    await campaign.resign().catch(() => {});
    return err;
  }
}

/**
 * The IDs of every candidate taking part in an election now (each holds a key bound to its live
 * lease, whose value is its ID): the managers that are up and reach etcd.
 */
export async function electionCandidates(client: Etcd3, name: string): Promise<Set<string>> {
  const values = await client.getAll().prefix(`election/${name}/`).strings();
  return new Set(Object.values(values));
}
