/**
 * The etcd backend. Reads are synchronous over the informer cache (etcd-cache.ts). A write runs fn
 * over the cache, then commits every written object in one etcd txn guarded by compares (create:
 * the key does not exist; update/delete: its mod revision is the one the cache had). If a compare
 * fails, the cache was behind: wait until it has caught up on the keys involved and run fn again
 * (a bounded number of times, then "update out of sequence").
 *
 * Read-your-writes: after a commit at revision R, if the cache is at R-1 the writes are applied at
 * once; otherwise the cache is missing earlier revisions, and applying R first would break revision
 * order for watchers, so `update` waits for the watch to deliver R (normally ~1 ms).
 */
import type { Etcd3 } from "etcd3";
import {
  type Clock,
  invalidArgument,
  type Logger,
  LostQuorumError,
  SequenceConflictError,
  ShoalError,
  unavailable,
} from "../base/index.ts";
import { DataCipher } from "./encryption.ts";
import { EtcdCache } from "./etcd-cache.ts";
import { createEtcdClient, isNoLeaderError } from "./etcd-client.ts";
import { type DecodedKv, EtcdCodec } from "./etcd-codec.ts";
import { replayFromEtcd } from "./etcd-history.ts";
import { buildTxn, caughtUpWith, type StaleKey, staleKeys } from "./etcd-txn.ts";
import type { EventStream } from "./hub.ts";
import { defaultLeaderWatchConfig, LeaderWatch, type LeaderWatchConfig } from "./leader-watch.ts";
import { type Change, OverlayTx } from "./overlay.ts";
import { readTxOver, versionOf } from "./state.ts";
import type { ReadTx, Store, StoreEvent, WatchOptions, WriteTx } from "./types.ts";

export interface EtcdStoreConfig {
  /** etcd client URLs, e.g. the local member's `http://127.0.0.1:2379`. Ignored if `client` is given. */
  endpoints: string[];
  /** An existing client to use (the store does not close it). */
  client?: Etcd3;
  /** The cluster's 32-byte data key: every value is sealed with it. */
  dataKey: Uint8Array;
  /** Key prefix of all shoal objects. */
  prefix: string;
  /** etcd's `--max-txn-ops`: the most objects one transaction may write. */
  maxTxnOps: number;
  /** How many times fn runs before a conflict becomes "update out of sequence". */
  conflictAttempts: number;
  /** How long to wait for the cache to reach a revision etcd reported. */
  catchUpTimeoutMs: number;
  /** Events kept in memory for `afterRevision` replay (older ones come from etcd's history). */
  historyLimit: number;
  /** Deadline of one etcd call. */
  callTimeoutMs: number;
  /**
   * How long a write waits for the local member to have a leader (an election, or a partition that
   * heals) before failing with Swarm's lost-quorum message.
   */
  leaderWaitMs: number;
  /** When reads start failing on a member without a leader (leader-watch.ts). */
  leaderWatch: LeaderWatchConfig;
}

/** Retry period while the local member has no leader: etcd elects within about 1–2 s. */
const LEADER_POLL_MS = 100;

export const defaultEtcdStoreConfig = (endpoints: string[], dataKey: Uint8Array): EtcdStoreConfig => ({
  endpoints,
  dataKey,
  prefix: "/shoal/v1/",
  maxTxnOps: 128,
  conflictAttempts: 10,
  catchUpTimeoutMs: 5000,
  historyLimit: 10_000,
  callTimeoutMs: 10_000,
  leaderWaitMs: 5000,
  leaderWatch: defaultLeaderWatchConfig(),
});

/** What `health()` reports. */
export interface EtcdStoreHealth {
  /** False while the watch is down or etcd calls keep failing. */
  healthy: boolean;
  watching: boolean;
  revision: number;
  consecutiveFailures: number;
  lastError?: string;
}

type CommitOutcome = { ok: true } | { ok: false; stale: StaleKey[] };

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly codec: EtcdCodec;
  private readonly cache: EtcdCache;
  private failures = 0;
  private lastError: string | undefined;
  private closed = false;
  private rerunQueue: Promise<void> = Promise.resolve();
  private readonly leader: LeaderWatch;
  private readonly stopping = new AbortController();
  private leaderRun: Promise<void> = Promise.resolve();

  /** Connects, loads every object and starts the watch. */
  static async open(config: EtcdStoreConfig, log: Logger, clock: Clock): Promise<EtcdStore> {
    const store = new EtcdStore(config, log, clock);
    try {
      await store.withLeader(() => store.cache.load());
    } catch (err) {
      await store.close();
      throw unavailable(`cannot load the store from etcd: ${String(err)}`);
    }
    store.leaderRun = store.leader.run(store.stopping.signal);
    return store;
  }

  private constructor(
    private readonly config: EtcdStoreConfig,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.client =
      config.client ??
      createEtcdClient(config.endpoints, { callTimeoutMs: config.callTimeoutMs, requireLeader: true });
    this.codec = new EtcdCodec(config.prefix, new DataCipher(config.dataKey));
    this.cache = new EtcdCache({
      client: this.client,
      codec: this.codec,
      log,
      clock,
      historyLimit: config.historyLimit,
    });
    // Through the store's client: with `hasleader` a leaderless member refuses the status too.
    const probe = async () => (await this.client.maintenance.status()).leader !== "0";
    this.leader = new LeaderWatch(probe, clock, config.leaderWatch);
  }

  revision(): number {
    return this.cache.rev;
  }

  /**
   * Throws SwarmKit's lost-quorum error when the local member has had no leader for longer than
   * the grace: the cache may be stale and no write could commit. Costs no etcd call.
   */
  assertQuorum(): void {
    if (this.leader.lost()) throw new LostQuorumError();
  }

  view<R>(fn: (tx: ReadTx) => R): R {
    return fn(readTxOver(this.cache.state));
  }

  async update<R>(fn: (tx: WriteTx) => R): Promise<R> {
    const first = await this.attempt(fn);
    if (first.done) return first.result;
    await this.catchUp(first.stale);
    // Reruns after a conflict go one at a time per store instance, so that writers of one hot object
    // in this process stop colliding with each other and each rerun only races other processes.
    return this.serialized(async () => {
      for (let attempt = 2; ; attempt++) {
        const next = await this.attempt(fn);
        if (next.done) return next.result;
        if (attempt >= this.config.conflictAttempts) {
          throw new SequenceConflictError(`store still behind etcd after ${attempt} attempts`);
        }
        await this.catchUp(next.stale);
      }
    });
  }

  async batch(units: ReadonlyArray<(tx: WriteTx) => void>): Promise<Array<Error | undefined>> {
    const errors: Array<Error | undefined> = units.map(() => undefined);
    let pack = this.newPack();
    for (let i = 0; i < units.length; i++) {
      this.assertOpen();
      const child = new OverlayTx(pack.tx, this.cache.rev + 1);
      try {
        units[i]?.(child);
        if (child.size > 0) this.assertFits(child.size);
      } catch (err) {
        errors[i] = asError(err);
        continue;
      }
      if (child.size === 0) continue;
      if (pack.tx.size + child.size > this.config.maxTxnOps) {
        const down = await this.flush(pack, units, errors);
        if (down) return errors.map((e, j) => (j >= i ? down : e));
        pack = this.newPack();
        i--; // run the unit again over the state the flush produced
        continue;
      }
      pack.tx.absorb(child);
      pack.members.push(i);
    }
    await this.flush(pack, units, errors);
    return errors;
  }

  watch(opts: WatchOptions = {}): AsyncIterable<StoreEvent> {
    return this.subscribe(opts.afterRevision ?? this.cache.rev, opts);
  }

  viewAndWatch<R>(
    fn: (tx: ReadTx) => R,
    opts: Omit<WatchOptions, "afterRevision"> = {},
  ): { result: R; revision: number; events: AsyncIterable<StoreEvent> } {
    const revision = this.cache.rev;
    return { result: this.view(fn), revision, events: this.subscribe(revision, opts) };
  }

  /** Whether the store is keeping up with etcd; persistent failures show here, not as crashes. */
  health(): EtcdStoreHealth {
    const lastError = this.lastError ?? this.cache.lastError;
    const h: EtcdStoreHealth = {
      healthy: !this.closed && this.cache.watching && this.failures < 3,
      watching: this.cache.watching,
      revision: this.cache.rev,
      consecutiveFailures: this.failures,
    };
    if (lastError) h.lastError = lastError;
    return h;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    await this.cache.close();
    if (!this.config.client) this.client.close();
    // After the client: closing it ends a probe still in flight.
    await this.leaderRun;
  }

  private subscribe(afterRevision: number, opts: WatchOptions): EventStream {
    const hub = this.cache.hub;
    if (this.closed) return hub.failed(unavailable("store is closed"));
    const live = hub.subscribe(afterRevision, opts.tables, opts.signal);
    if (live) return live;
    const stream = hub.detached(opts.tables, opts.signal);
    // replayFromEtcd reports every failure through the stream.
    void replayFromEtcd(this.client, this.codec, this.log, afterRevision, stream);
    return stream;
  }

  /** Runs fn over the cache and commits its writes. */
  private async attempt<R>(
    fn: (tx: WriteTx) => R,
  ): Promise<{ done: true; result: R } | { done: false; stale: StaleKey[] }> {
    this.assertOpen();
    const tx = new OverlayTx(this.cache.state, this.cache.rev + 1);
    const result = fn(tx);
    const changes = tx.changes();
    if (changes.length === 0) return { done: true, result };
    this.assertFits(changes.length);
    const outcome = await this.commit(changes);
    return outcome.ok ? { done: true, result } : { done: false, stale: outcome.stale };
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.rerunQueue.then(fn);
    this.rerunQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private newPack(): { tx: OverlayTx; members: number[] } {
    return { tx: new OverlayTx(this.cache.state, this.cache.rev + 1), members: [] };
  }

  /**
   * Commits a pack of units in one txn; if it conflicts, commits each unit on its own. Returns the
   * error if etcd could not be reached (the caller then fails the remaining units fast).
   */
  private async flush(
    pack: { tx: OverlayTx; members: number[] },
    units: ReadonlyArray<(tx: WriteTx) => void>,
    errors: Array<Error | undefined>,
  ): Promise<Error | undefined> {
    const changes = pack.tx.changes();
    if (changes.length === 0) return undefined;
    try {
      if ((await this.commit(changes)).ok) return undefined;
    } catch (err) {
      for (const i of pack.members) errors[i] = asError(err);
      return asError(err);
    }
    for (const i of pack.members) {
      const unit = units[i];
      if (unit) errors[i] = await this.update(unit).then(() => undefined, asError);
    }
    return undefined;
  }

  private async commit(changes: Change[]): Promise<CommitOutcome> {
    const txn = buildTxn(this.codec, changes);
    const res = await this.withLeader(() => this.call(() => this.client.kv.txn(txn)));
    this.leader.sawLeader();
    if (!res.succeeded) return { ok: false, stale: staleKeys(changes, res) };
    await this.applyOwn(Number(res.header.revision), changes);
    return { ok: true };
  }

  /** Read-your-writes without breaking revision order (see the file comment). */
  private async applyOwn(revision: number, changes: Change[]): Promise<void> {
    if (this.cache.rev === revision - 1) {
      const items: DecodedKv[] = changes.map((c) => ({
        table: c.table,
        id: c.id,
        object: c.after ? { ...c.after, Version: { Index: revision } } : undefined,
        modRevision: revision,
      }));
      this.cache.apply(revision, items);
      return;
    }
    const ok = await this.cache.waitUntil(() => this.cache.rev >= revision, this.config.catchUpTimeoutMs);
    if (!ok && !this.closed)
      this.log.warn({ revision, cached: this.cache.rev }, "store watch slow to deliver own write");
  }

  /** Waits until the cache has seen the current version of every key whose compare failed. */
  private async catchUp(stale: StaleKey[]): Promise<void> {
    const state = this.cache.state;
    const ready = () => caughtUpWith(stale, (c) => versionOf(state.getRaw(c.table, c.id)));
    await this.cache.waitUntil(ready, this.config.catchUpTimeoutMs);
  }

  /**
   * Runs fn again while the local member answers that it has no leader (it proposed nothing, so
   * this is safe), for at most leaderWaitMs: an election passes unnoticed, a member cut off from
   * the quorum fails clearly instead of holding the call until etcd's request timeout.
   */
  private async withLeader<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + this.config.leaderWaitMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isNoLeaderError(err)) throw err;
        if (this.closed || this.clock.now() >= deadline) throw new LostQuorumError();
        await this.clock.sleep(LEADER_POLL_MS);
      }
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.failures = 0;
      this.lastError = undefined;
      return out;
    } catch (err) {
      this.failures++;
      this.lastError = String(err);
      throw ShoalError.is(err) ? err : unavailable(`etcd: ${(err as Error).message ?? String(err)}`);
    }
  }

  private assertFits(n: number): void {
    if (n > this.config.maxTxnOps) {
      throw invalidArgument(
        `a transaction may write at most ${this.config.maxTxnOps} objects (this one: ${n})`,
      );
    }
  }

  private assertOpen(): void {
    if (this.closed) throw unavailable("store is closed");
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
