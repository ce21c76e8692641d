/**
 * Watch fan-out shared by both backends: a bounded ring of recent events (for `afterRevision`
 * replay) and one queue per watcher. Subscribing is synchronous, so a view taken in the same tick
 * as a subscription has no gap to the events that follow it.
 */
import { failedPrecondition } from "../base/index.ts";
import { cloneObject } from "./state.ts";
import type { StoredObject, StoreEvent, TableName, Tables } from "./types.ts";

/** The error a watch raises when the history it asks for is gone. */
export const compactedError = (revision: number): Error =>
  Object.assign(failedPrecondition("revision compacted"), { revision });

/**
 * One watcher's queue, consumed as an AsyncIterable. Unbounded: a watcher that stops reading holds
 * its events in memory until it ends (its signal aborts or the store closes).
 */
export class EventStream implements AsyncIterable<StoreEvent> {
  private readonly queue: StoreEvent[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private error: Error | undefined;
  private readonly onAbort = () => this.cancel();
  private readonly closers: Array<() => void> = [];

  constructor(
    private readonly tables: ReadonlySet<TableName> | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly onEnd: (s: EventStream) => void,
    /** Events at or below this revision are not delivered. */
    private readonly afterRevision = 0,
  ) {
    if (signal?.aborted) this.ended = true;
    else signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Queues events (shared; cloned on delivery) that pass the filters. */
  push(events: readonly StoreEvent[]): void {
    if (this.ended) return;
    for (const e of events) {
      if (e.revision > this.afterRevision && (!this.tables || this.tables.has(e.table))) this.queue.push(e);
    }
    this.wake();
  }

  /** Runs fn when the stream ends (whoever feeds it stops then). */
  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.closers.push(fn);
  }

  /** Ends the stream after the queued events (the store closed). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.onEnd(this);
    for (const fn of this.closers.splice(0)) fn();
    this.wake();
  }

  /** Ends the stream with an error, raised once the queued events are consumed. */
  fail(err: Error): void {
    if (this.ended) return;
    this.error = err;
    this.end();
  }

  /**
   * A hand-written iterator rather than an async generator: `return()` must end the stream at once
   * even while a `next()` is waiting (a generator would queue the return behind it).
   */
  [Symbol.asyncIterator](): AsyncIterator<StoreEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  /** The consumer stopped: drop what is queued and end. */
  private cancel(): void {
    this.queue.length = 0;
    this.error = undefined;
    this.end();
  }

  private async next(): Promise<IteratorResult<StoreEvent>> {
    for (;;) {
      const event = this.queue.shift();
      if (event) return { done: false, value: cloneEvent(event) };
      if (this.ended) {
        const err = this.error;
        this.error = undefined;
        if (err) throw err;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function cloneEvent(e: StoreEvent): StoreEvent {
  const out: StoreEvent = {
    kind: e.kind,
    table: e.table,
    object: cloneObject(e.object),
    revision: e.revision,
  };
  if (e.previous) out.previous = cloneObject(e.previous);
  return out;
}

export class WatchHub {
  private ring: StoreEvent[] = [];
  /** Every event with a revision above floor is in the ring. */
  private floor: number;
  private readonly streams = new Set<EventStream>();
  /** Streams fed by someone else; the hub only ends them on close. */
  private readonly others = new Set<EventStream>();

  constructor(
    private readonly capacity: number,
    floor = 0,
  ) {
    this.floor = floor;
  }

  /** The oldest revision a watcher may ask to continue after. */
  oldestReplayable(): number {
    return this.floor;
  }

  /** Publishes the events of one or more commits, in revision order. */
  publish(events: readonly StoreEvent[]): void {
    if (events.length === 0) return;
    this.ring.push(...events);
    if (this.ring.length > this.capacity) {
      const drop = this.ring.length - this.capacity;
      this.floor = Math.max(this.floor, this.ring[drop - 1]?.revision ?? this.floor);
      this.ring = this.ring.slice(drop);
    }
    for (const s of this.streams) s.push(events);
  }

  /** Forgets history up to `revision` (used when the backend lost continuity). */
  forgetUpTo(revision: number): void {
    this.ring = this.ring.filter((e) => e.revision > revision);
    this.floor = Math.max(this.floor, revision);
  }

  /**
   * A stream of the events after `afterRevision`: replayed from the ring, then live. Returns
   * undefined if the ring no longer holds that history.
   */
  subscribe(
    afterRevision: number,
    tables?: readonly TableName[],
    signal?: AbortSignal,
  ): EventStream | undefined {
    if (afterRevision < this.floor) return undefined;
    const stream = this.newStream(tables, signal, afterRevision);
    stream.push(this.ring.filter((e) => e.revision > afterRevision));
    if (!stream.closed) this.streams.add(stream);
    return stream;
  }

  /** A stream that is not fed by the hub (for a backend's own history replay); closed with it. */
  detached(tables?: readonly TableName[], signal?: AbortSignal): EventStream {
    const stream = new EventStream(tables ? new Set(tables) : undefined, signal, (s) =>
      this.others.delete(s),
    );
    if (!stream.closed) this.others.add(stream);
    return stream;
  }

  /** Ends every stream. */
  close(): void {
    for (const s of [...this.streams, ...this.others]) s.end();
  }

  /** A stream already failed with `err` (e.g. compacted history). */
  failed(err: Error): EventStream {
    const stream = this.newStream(undefined, undefined);
    stream.fail(err);
    return stream;
  }

  private newStream(
    tables: readonly TableName[] | undefined,
    signal: AbortSignal | undefined,
    afterRevision = 0,
  ): EventStream {
    return new EventStream(
      tables ? new Set(tables) : undefined,
      signal,
      (s) => this.streams.delete(s),
      afterRevision,
    );
  }
}

/** Builds a StoreEvent; the objects are the store's own and are cloned on delivery. */
export function event(
  kind: StoreEvent["kind"],
  table: TableName,
  object: StoredObject,
  revision: number,
  previous?: StoredObject,
): StoreEvent {
  const e: StoreEvent = { kind, table, object: object as Tables[TableName], revision };
  if (previous && kind !== "create") e.previous = previous as Tables[TableName];
  return e;
}
