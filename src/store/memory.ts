/**
 * The memory backend: the whole store in one process, for unit tests and simulations. Same contract
 * as the etcd backend (the conformance suite proves both): a global revision counter, one revision
 * per committing transaction, `Version.Index` = revision of the object's last write.
 */
import { ShoalError } from "../base/index.ts";
import { compactedError, type EventStream, event, WatchHub } from "./hub.ts";
import { type Change, OverlayTx } from "./overlay.ts";
import { cloneObject, ObjectState, readTxOver } from "./state.ts";
import type { ReadTx, Store, StoredObject, StoreEvent, WatchOptions, WriteTx } from "./types.ts";

export interface MemoryStoreConfig {
  /** Events kept for `afterRevision` replay; older revisions are "compacted". Default 10,000. */
  historyLimit: number;
}

export const defaultMemoryStoreConfig = (): MemoryStoreConfig => ({ historyLimit: 10_000 });

export class MemoryStore implements Store {
  private readonly state = new ObjectState();
  private readonly hub: WatchHub;
  private rev = 0;
  private closed = false;

  constructor(config: Partial<MemoryStoreConfig> = {}) {
    const { historyLimit } = { ...defaultMemoryStoreConfig(), ...config };
    this.hub = new WatchHub(historyLimit);
  }

  revision(): number {
    return this.rev;
  }

  view<R>(fn: (tx: ReadTx) => R): R {
    return fn(readTxOver(this.state));
  }

  async update<R>(fn: (tx: WriteTx) => R): Promise<R> {
    this.assertOpen();
    const tx = new OverlayTx(this.state, this.rev + 1);
    const result = fn(tx);
    this.commit(tx.changes());
    return result;
  }

  async batch(units: ReadonlyArray<(tx: WriteTx) => void>): Promise<Array<Error | undefined>> {
    this.assertOpen();
    // Each unit is its own transaction: the memory store has no per-commit cost worth packing for.
    return units.map((unit) => {
      try {
        const tx = new OverlayTx(this.state, this.rev + 1);
        unit(tx);
        this.commit(tx.changes());
        return undefined;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    });
  }

  watch(opts: WatchOptions = {}): AsyncIterable<StoreEvent> {
    return this.subscribe(opts.afterRevision ?? this.rev, opts);
  }

  viewAndWatch<R>(
    fn: (tx: ReadTx) => R,
    opts: Omit<WatchOptions, "afterRevision"> = {},
  ): { result: R; revision: number; events: AsyncIterable<StoreEvent> } {
    const revision = this.rev;
    const result = this.view(fn);
    return { result, revision, events: this.subscribe(revision, opts) };
  }

  /** Drops the change history up to `revision`, as an etcd compaction does. */
  compact(revision: number): void {
    this.hub.forgetUpTo(revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.close();
  }

  private subscribe(afterRevision: number, opts: WatchOptions): EventStream {
    if (this.closed) return this.hub.failed(new ShoalError("Unavailable", "store is closed"));
    return (
      this.hub.subscribe(afterRevision, opts.tables, opts.signal) ??
      this.hub.failed(compactedError(afterRevision))
    );
  }

  private commit(changes: Change[]): void {
    if (changes.length === 0) return;
    const revision = ++this.rev;
    const events = changes.map((c) => this.apply(c, revision));
    this.hub.publish(events);
  }

  private apply(change: Change, revision: number): StoreEvent {
    const { table, after, before } = change;
    if (!after) {
      this.state.remove(table, change.id);
      return event("delete", table, before as StoredObject, revision, before);
    }
    const stored = cloneObject(after);
    stored.Version = { Index: revision };
    this.state.put(table, stored);
    return event(before ? "update" : "create", table, stored, revision, before);
  }

  private assertOpen(): void {
    if (this.closed) throw new ShoalError("Unavailable", "store is closed");
  }
}
