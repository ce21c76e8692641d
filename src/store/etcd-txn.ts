/**
 * One store transaction as one etcd txn. Compares guard every written key (create: the key does not
 * exist; update/delete: its mod revision is the version the writer saw); the success branch writes
 * sealed values; the failure branch reads the keys back so a loser learns their current revisions.
 */
import type { ICompare, IRequestOp, ITxnRequest, ITxnResponse } from "etcd3";
import type { EtcdCodec } from "./etcd-codec.ts";
import type { Change } from "./overlay.ts";
import { versionOf } from "./state.ts";

/** A key whose compare failed, with its mod revision in etcd at that moment (0: absent). */
export interface StaleKey {
  change: Change;
  current: number;
}

export function buildTxn(codec: EtcdCodec, changes: readonly Change[]): ITxnRequest {
  const compare: ICompare[] = [];
  const success: IRequestOp[] = [];
  const failure: IRequestOp[] = [];
  for (const c of changes) {
    const key = codec.key(c.table, c.id);
    compare.push(
      c.before
        ? { key, target: "Mod", result: "Equal", mod_revision: versionOf(c.before) }
        : { key, target: "Create", result: "Equal", create_revision: 0 },
    );
    success.push(
      c.after
        ? { request_put: { key, value: codec.encode(c.table, c.after) } }
        : { request_delete_range: { key } },
    );
    failure.push({ request_range: { key, keys_only: true } });
  }
  return { compare, success, failure };
}

/** The current mod revision (0: absent) of each key, from a failed txn's failure branch. */
export function staleKeys(changes: readonly Change[], res: ITxnResponse): StaleKey[] {
  return changes.map((change, i) => {
    const kv = res.responses[i]?.response_range?.kvs[0];
    return { change, current: kv ? Number(kv.mod_revision) : 0 };
  });
}

/** True once the cache holds, for every stale key, the version etcd reported (or a later one). */
export function caughtUpWith(stale: readonly StaleKey[], cachedVersion: (c: Change) => number): boolean {
  return stale.every(({ change, current }) => {
    const cached = cachedVersion(change);
    // Present in etcd: the cache needs that version. Absent: the cache must have dropped the version
    // the writer compared against (deleted, or recreated since).
    return current > 0 ? cached >= current : cached === 0 || cached > versionOf(change.before);
  });
}
