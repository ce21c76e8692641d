/**
 * The etcd backend's informer: a full, decrypted copy of the shoal keys, loaded with one range read
 * and kept current by a watch that starts right after the revision of that read. Every change is
 * applied once, in revision order, and published to the watch hub; a revision at or below the
 * cache's revision is already applied and is skipped (so the store may apply its own commits early).
 * If the watch loses its history (compaction while disconnected) the cache relists and publishes the
 * difference as events at the relist revision.
 */
import type { Etcd3, IEvent, Watcher } from "etcd3";
import { backoffDelay, type Clock, type Logger } from "../base/index.ts";
import { type DecodedKv, type EtcdCodec, prefixEnd } from "./etcd-codec.ts";
import { isCompacted } from "./etcd-history.ts";
import { event, WatchHub } from "./hub.ts";
import { ObjectState } from "./state.ts";
import type { StoreEvent } from "./types.ts";

export interface EtcdCacheDeps {
  client: Etcd3;
  codec: EtcdCodec;
  log: Logger;
  clock: Clock;
  historyLimit: number;
}

interface Waiter {
  ready: () => boolean;
  resolve: (ok: boolean) => void;
}

export class EtcdCache {
  readonly state = new ObjectState();
  hub: WatchHub;
  /** Every change up to this revision is applied. */
  rev = 0;
  watching = false;
  lastError: string | undefined;
  private watcher: Watcher | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly closing = new AbortController();

  constructor(private readonly deps: EtcdCacheDeps) {
    this.hub = new WatchHub(deps.historyLimit);
  }

  /** Initial load: range read, then a watch from the next revision. */
  async load(): Promise<void> {
    const rev = await this.relist(false);
    this.hub = new WatchHub(this.deps.historyLimit, rev);
    await this.watchFrom(rev);
  }

  /** Applies the changes of one committed revision; false if it was already applied. */
  apply(revision: number, items: readonly DecodedKv[]): boolean {
    if (revision <= this.rev) return false;
    this.applyAt(revision, items);
    return true;
  }

  private applyAt(revision: number, items: readonly DecodedKv[]): void {
    const events: StoreEvent[] = [];
    for (const item of items) {
      const e = this.applyItem(item, revision);
      if (e) events.push(e);
    }
    this.rev = revision;
    this.hub.publish(events);
    this.wake();
  }

  /** Resolves true once `ready()` holds after some apply, false after timeoutMs. */
  waitUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimer(timeoutMs, () => {
        this.waiters.delete(waiter);
        resolve(false);
      });
      const waiter: Waiter = {
        ready,
        resolve: (ok) => {
          timer.cancel();
          resolve(ok);
        },
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
    const watcher = this.watcher;
    this.watcher = undefined;
    this.watching = false;
    // Not awaited: etcd3 waits for the server to confirm a cancel, which never comes if etcd is gone.
    void watcher?.cancel().catch(() => {});
    this.hub.close();
  }

  private applyItem(item: DecodedKv, revision: number): StoreEvent | undefined {
    const before = this.state.getRaw(item.table, item.id);
    if (!item.object) {
      if (!before) return undefined;
      this.state.remove(item.table, item.id);
      return event("delete", item.table, before, revision, before);
    }
    this.state.put(item.table, item.object);
    return event(before ? "update" : "create", item.table, item.object, revision, before);
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (!w.ready()) continue;
      this.waiters.delete(w);
      w.resolve(true);
    }
  }

  /** Reads every key; applies the difference to the cache. Returns the read's revision. */
  private async relist(publish: boolean): Promise<number> {
    const { client, codec } = this.deps;
    const prefix = Buffer.from(codec.prefix);
    const res = await client.kv.range({ key: prefix, range_end: prefixEnd(prefix) });
    const revision = Number(res.header.revision);
    const fresh = new Map<string, DecodedKv>();
    for (const kv of res.kvs) {
      const item = this.decode(kv, false);
      if (item) fresh.set(`${item.table}/${item.id}`, item);
    }
    const items: DecodedKv[] = [];
    for (const [table, obj] of this.state.entries()) {
      if (!fresh.has(`${table}/${obj.ID}`))
        items.push({ table, id: obj.ID, object: undefined, modRevision: revision });
    }
    for (const item of fresh.values()) {
      const cached = this.state.getRaw(item.table, item.id);
      if (cached?.Version?.Index !== item.modRevision) items.push(item);
    }
    if (!publish) {
      for (const item of items) this.applyItem(item, revision);
      this.rev = revision;
    } else if (items.length > 0 || revision > this.rev) {
      // A watch that lost history may already have applied part of a revision: the difference is
      // then published at the cache's revision, which keeps revisions non-decreasing for watchers.
      this.applyAt(Math.max(revision, this.rev), items);
    }
    return revision;
  }

  private async watchFrom(revision: number): Promise<void> {
    const { client, codec, log } = this.deps;
    const watcher = client
      .watch()
      .prefix(codec.prefix)
      .startRevision(String(revision + 1))
      .watcher();
    this.watcher = watcher;
    let reconnect = false;
    watcher.on("connected", () => {
      this.watching = true;
      // After a reconnect, check that etcd still had the history the watch resumed from.
      if (reconnect) void this.checkContinuity(watcher);
      reconnect = true;
    });
    watcher.on("data", (res) => {
      // A watcher given up on (history lost) may still deliver a response or two: ignore them.
      if (this.watcher === watcher) this.onData(res.events);
    });
    watcher.on("disconnected", (err) => {
      this.watching = false;
      this.lastError = String(err);
      log.warn({ err: String(err) }, "store watch disconnected; reconnecting");
      // etcd3 resumes from the last header revision it saw, which may be past events still in
      // flight; resume from what the cache has applied instead.
      watcher.request.start_revision = String(this.rev + 1);
    });
    // etcd ended this watch itself (e.g. compacted history): nothing to cancel.
    watcher.on("error", (err) => this.lostHistory(watcher, err, false));
  }

  private async checkContinuity(watcher: Watcher): Promise<void> {
    try {
      const compacted = await isCompacted(this.deps.client, this.deps.codec.prefix, this.rev);
      if (compacted) this.lostHistory(watcher, new Error("history compacted while disconnected"), true);
    } catch (err) {
      // Unknown whether history was lost: relisting is always safe, so do that.
      this.lostHistory(watcher, new Error(`cannot check watch continuity: ${String(err)}`), true);
    }
  }

  private lostHistory(watcher: Watcher, err: unknown, cancel: boolean): void {
    if (this.watcher !== watcher || this.closing.signal.aborted) return;
    this.watcher = undefined;
    this.watching = false;
    this.lastError = String(err);
    this.deps.log.warn({ err: String(err), revision: this.rev }, "store watch lost its history; relisting");
    // A failed cancel leaves nothing behind: the watcher is dropped either way.
    if (cancel) void watcher.cancel().catch(() => {});
    // resync reports its own failures and retries until the cache closes.
    void this.resync();
  }

  private onData(events: IEvent[]): void {
    let revision = 0;
    let group: DecodedKv[] = [];
    for (const ev of events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev !== revision && group.length > 0) this.apply(revision, group);
      if (rev !== revision) group = [];
      revision = rev;
      const item = this.decode(ev.kv, ev.type === "Delete");
      if (item) group.push(item);
    }
    if (revision > 0) this.apply(revision, group);
  }

  private decode(kv: IEvent["kv"], deleted: boolean): DecodedKv | undefined {
    try {
      return this.deps.codec.decode(kv, deleted);
    } catch (err) {
      this.lastError = `cannot decode ${kv.key.toString()}: ${String(err)}`;
      this.deps.log.error(
        { key: kv.key.toString(), err: String(err) },
        "cannot decode stored value; skipped",
      );
      return undefined;
    }
  }

  private async resync(): Promise<void> {
    for (let attempt = 0; !this.closing.signal.aborted; attempt++) {
      try {
        const revision = await this.relist(true);
        if (this.closing.signal.aborted) return;
        await this.watchFrom(revision);
        return;
      } catch (err) {
        this.lastError = String(err);
        this.deps.log.warn({ err: String(err), attempt }, "store relist failed; retrying");
        const delay = backoffDelay(attempt, { initialMs: 100, maxMs: 5000, factor: 2 });
        await this.deps.clock.sleep(delay, this.closing.signal).catch(() => {});
      }
    }
  }
}
