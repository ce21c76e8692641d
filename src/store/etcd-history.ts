/**
 * Watches that start before the cache's own history: replayed straight from etcd's history with
 * a dedicated etcd watch (with previous values), which then continues live. Used for a watch with
 * an old `afterRevision`, e.g. a restarted manager resuming where it stopped.
 */
import type { Etcd3, IEvent, Watcher } from "etcd3";
import { type Logger, ShoalError, unavailable } from "../base/index.ts";
import type { EtcdCodec } from "./etcd-codec.ts";
import { compactedError, type EventStream, event } from "./hub.ts";
import type { StoreEvent } from "./types.ts";

/**
 * True if etcd no longer has every change after `afterRevision`. A watch may start at the compact
 * revision itself, but deletions at that revision are gone with the compaction, so the probe reads
 * at `afterRevision`: it fails exactly when afterRevision < the compact revision.
 */
export async function isCompacted(client: Etcd3, prefix: string, afterRevision: number): Promise<boolean> {
  try {
    await client.kv.range({ key: Buffer.from(prefix), limit: 1, revision: Math.max(1, afterRevision) });
    return false;
  } catch (err) {
    if (/compacted/.test(String(err))) return true;
    if (/future revision/.test(String(err))) return false;
    throw err;
  }
}

/** Feeds `stream` with the events after `afterRevision`, from etcd's history, then live. */
export async function replayFromEtcd(
  client: Etcd3,
  codec: EtcdCodec,
  log: Logger,
  afterRevision: number,
  stream: EventStream,
): Promise<void> {
  let next = afterRevision + 1;
  try {
    if (await isCompacted(client, codec.prefix, afterRevision)) throw compactedError(afterRevision);
  } catch (err) {
    stream.fail(ShoalError.is(err) ? err : unavailable(`store history unavailable: ${String(err)}`));
    return;
  }
  if (stream.closed) return;
  const watcher: Watcher = client
    .watch()
    .prefix(codec.prefix)
    .withPreviousKV()
    .startRevision(String(next))
    .watcher();
  // Nothing to do if the cancel fails: the stream is gone either way.
  let endedByEtcd = false;
  stream.onClose(() => {
    if (!endedByEtcd) void watcher.cancel().catch(() => {});
  });
  watcher.on("data", (res) => {
    const events = res.events.map((ev) => toStoreEvent(codec, log, ev)).filter((e) => e !== undefined);
    stream.push(events);
    const last = res.events.at(-1);
    if (last) next = Number(last.kv.mod_revision) + 1;
  });
  let reconnect = false;
  watcher.on("connected", () => {
    // A watch may resume at the compact revision itself and silently miss its deletions: check.
    if (reconnect) {
      const after = next - 1;
      void isCompacted(client, codec.prefix, after)
        .catch(() => true)
        .then((lost) => lost && stream.fail(compactedError(after)));
    }
    reconnect = true;
  });
  watcher.on("disconnected", () => {
    // Resume from what was delivered, not from etcd3's last header revision.
    watcher.request.start_revision = String(next);
  });
  watcher.on("error", (err) => {
    endedByEtcd = true;
    void isCompacted(client, codec.prefix, next - 1)
      .catch(() => false)
      .then((compacted) =>
        stream.fail(compacted ? compactedError(next - 1) : unavailable(`store watch failed: ${String(err)}`)),
      );
  });
}

function toStoreEvent(codec: EtcdCodec, log: Logger, ev: IEvent): StoreEvent | undefined {
  try {
    const revision = Number(ev.kv.mod_revision);
    const prev = ev.prev_kv ? codec.decode(ev.prev_kv)?.object : undefined;
    if (ev.type === "Delete") {
      const where = codec.parseKey(ev.kv.key);
      if (!where) return undefined;
      return event("delete", where.table, prev ?? { ID: where.id }, revision, prev);
    }
    const item = codec.decode(ev.kv);
    if (!item?.object) return undefined;
    const kind = ev.kv.create_revision === ev.kv.mod_revision ? "create" : "update";
    return event(kind, item.table, item.object, revision, prev);
  } catch (err) {
    log.error(
      { key: ev.kv.key.toString(), err: String(err) },
      "cannot decode stored value in history; skipped",
    );
    return undefined;
  }
}
