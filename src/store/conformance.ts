/**
 * The one conformance suite every Store backend must pass. Each backend's test file calls
 * `storeConformance` with a harness; tests that need two instances on shared data (restart,
 * concurrent writers) run only where the harness says the data outlives an instance.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Service, Task } from "../api/index.ts";
import { ErrorCode, SequenceConflictError, ShoalError } from "../base/index.ts";
import type { Store, StoreEvent } from "./types.ts";

export interface StoreHarness {
  /** Opens a store instance; with `shared`, every instance sees the same data. */
  open(): Promise<Store>;
  /** Drops the backend's change history up to the store's current revision. */
  compact(store: Store): Promise<void>;
  /** True when data outlives an instance and several instances can share it (etcd). */
  shared: boolean;
  /** Releases whatever the harness started (called once, after every test). */
  dispose(): Promise<void>;
}

export const svc = (id: string, name: string, labels: Record<string, string> = {}): Service =>
  ({ ID: id, Spec: { Name: name, Labels: labels } }) as Service;
export const task = (id: string, serviceId: string, nodeId?: string): Task =>
  ({ ID: id, ServiceID: serviceId, NodeID: nodeId, Status: { State: "new" } }) as Task;

/** Reads events until `n` arrived or the deadline passes (then fails with what it saw). */
export async function take(events: AsyncIterable<StoreEvent>, n: number, ms = 5000): Promise<StoreEvent[]> {
  const seen: StoreEvent[] = [];
  const it = events[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    while (seen.length < n) {
      const next = await Promise.race([it.next(), deadline]);
      if (next === "timeout")
        assert.fail(`got ${seen.length}/${n} events: ${JSON.stringify(seen.map(brief))}`);
      if (next.done) break;
      seen.push(next.value);
    }
    return seen;
  } finally {
    clearTimeout(timer);
    await it.return?.();
  }
}

const brief = (e: StoreEvent) => `${e.revision}:${e.kind}:${e.table}/${e.object.ID}`;

const isCode = (code: string) => (err: unknown) => {
  assert.ok(ShoalError.is(err), `expected ShoalError ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
  return true;
};

/** No store operation in these tests should take long: a hang fails the test instead of the run. */
const T = { timeout: 30_000 };

export function storeConformance(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  /** Whether the backend's data outlives an instance: only then are the two-instance tests registered. */
  opts: { shared: boolean },
): void {
  describe(`store conformance: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const s = await harness.open();
      opened.push(s);
      return s;
    };

    before(async () => {
      harness = await makeHarness();
      store = await open();
    });
    after(async () => {
      for (const s of opened) await s.close();
      await harness?.dispose();
    });

    test("create, get, list, lookup, update, delete", T, async () => {
      await store.update((tx) => {
        tx.create("services", svc("s1", "web"));
        tx.create("tasks", task("t1", "s1", "n1"));
        tx.create("tasks", task("t2", "s1", "n2"));
      });
      const rev = store.revision();
      const got = store.view((tx) => tx.get("services", "s1"));
      assert.equal(got?.Spec?.Name, "web");
      assert.equal(got?.Version?.Index, rev);
      assert.equal(store.view((tx) => tx.lookup("services", "name", "web")).length, 1);
      assert.deepEqual(store.view((tx) => tx.lookup("tasks", "service", "s1").map((t) => t.ID)).sort(), [
        "t1",
        "t2",
      ]);
      assert.ok(store.view((tx) => tx.list("tasks")).length >= 2);

      const moved = { ...store.view((tx) => tx.get("tasks", "t2"))!, NodeID: "n1" };
      await store.update((tx) => tx.update("tasks", moved));
      assert.deepEqual(store.view((tx) => tx.lookup("tasks", "node", "n1").map((t) => t.ID)).sort(), [
        "t1",
        "t2",
      ]);
      assert.equal(store.view((tx) => tx.lookup("tasks", "node", "n2")).length, 0);
      assert.equal(store.view((tx) => tx.get("tasks", "t2"))?.Version?.Index, store.revision());
      assert.ok(store.revision() > rev);

      await store.update((tx) => tx.delete("tasks", "t1"));
      assert.equal(
        store.view((tx) => tx.get("tasks", "t1")),
        undefined,
      );
      assert.deepEqual(
        store.view((tx) => tx.lookup("tasks", "service", "s1").map((t) => t.ID)),
        ["t2"],
      );
    });

    test("objects handed out never alias store state", T, async () => {
      const input = svc("alias1", "alias");
      await store.update((tx) => tx.create("services", input));
      input.Spec!.Name = "mutated-input";
      const a = store.view((tx) => tx.get("services", "alias1"))!;
      a.Spec!.Name = "mutated-output";
      assert.equal(store.view((tx) => tx.get("services", "alias1"))?.Spec?.Name, "alias");
      assert.equal(store.view((tx) => tx.lookup("services", "name", "alias")).length, 1);
    });

    test("update returns fn's result and reads its own writes", T, async () => {
      const r = await store.update((tx) => {
        tx.create("services", svc("ryw", "ryw"));
        const inTx = tx.get("services", "ryw")!;
        tx.update("services", { ...inTx, Spec: { Name: "ryw2" } });
        return tx.lookup("services", "name", "ryw2").length;
      });
      assert.equal(r, 1);
      assert.equal(store.view((tx) => tx.get("services", "ryw"))?.Spec?.Name, "ryw2");
    });

    test("AlreadyExists and NotFound", T, async () => {
      await store.update((tx) => tx.create("services", svc("dup", "dup")));
      await assert.rejects(
        store.update((tx) => tx.create("services", svc("dup", "dup"))),
        isCode(ErrorCode.AlreadyExists),
      );
      await assert.rejects(
        store.update((tx) => tx.update("services", svc("missing", "x"))),
        isCode(ErrorCode.NotFound),
      );
      await assert.rejects(
        store.update((tx) => tx.delete("services", "missing")),
        isCode(ErrorCode.NotFound),
      );
    });

    test("a stale version is 'update out of sequence'", T, async () => {
      await store.update((tx) => tx.create("services", svc("ver", "ver")));
      const v1 = store.view((tx) => tx.get("services", "ver"))!;
      await store.update((tx) => tx.update("services", { ...v1, Spec: { Name: "ver-2" } }));
      await assert.rejects(
        store.update((tx) => tx.update("services", { ...v1, Spec: { Name: "ver-3" } })),
        (err: unknown) => {
          assert.ok(err instanceof SequenceConflictError);
          assert.equal(err.message, "update out of sequence");
          return true;
        },
      );
      assert.equal(store.view((tx) => tx.get("services", "ver"))?.Spec?.Name, "ver-2");
    });

    test("a throwing fn writes nothing", T, async () => {
      const rev = store.revision();
      await assert.rejects(
        store.update((tx) => {
          tx.create("services", svc("atom1", "atom1"));
          tx.create("services", svc("atom2", "atom2"));
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(store.revision(), rev);
      assert.equal(
        store.view((tx) => tx.get("services", "atom1")),
        undefined,
      );
      // A failing write in the middle aborts the earlier ones too.
      await assert.rejects(
        store.update((tx) => {
          tx.create("services", svc("atom3", "atom3"));
          tx.delete("services", "missing");
        }),
        isCode(ErrorCode.NotFound),
      );
      assert.equal(
        store.view((tx) => tx.get("services", "atom3")),
        undefined,
      );
    });

    test("batch commits units independently and reports per-unit errors", T, async () => {
      const units = Array.from({ length: 300 }, (_, i) => (tx: import("./types.ts").WriteTx) => {
        if (i === 7) throw new Error("unit 7 fails");
        tx.create("tasks", task(`b${i}`, "batch-svc"));
        if (i === 200) tx.create("tasks", task("b3", "batch-svc")); // AlreadyExists
      });
      const errs = await store.batch(units);
      assert.equal(errs.length, 300);
      assert.match(String(errs[7]), /unit 7 fails/);
      assert.ok(ShoalError.is(errs[200], ErrorCode.AlreadyExists));
      assert.equal(errs.filter((e) => e !== undefined).length, 2);
      const ids = store.view((tx) => tx.lookup("tasks", "service", "batch-svc").map((t) => t.ID));
      assert.equal(ids.length, 298);
      assert.ok(!ids.includes("b7") && !ids.includes("b200"));
    });

    test("watch delivers changes once, in revision order, with previous objects", T, async () => {
      const ac = new AbortController();
      const events = store.watch({ tables: ["services"], signal: ac.signal });
      await store.update((tx) => tx.create("services", svc("w1", "w1")));
      await store.update((tx) => tx.create("tasks", task("wt", "w1")));
      const w1 = store.view((tx) => tx.get("services", "w1"))!;
      await store.update((tx) => tx.update("services", { ...w1, Spec: { Name: "w1b" } }));
      await store.update((tx) => tx.delete("services", "w1"));
      const seen = await take(events, 3);
      ac.abort();
      assert.deepEqual(
        seen.map((e) => e.kind),
        ["create", "update", "delete"],
      );
      assert.ok(seen.every((e, i) => i === 0 || e.revision > seen[i - 1]!.revision));
      assert.equal((seen[1]?.previous as Service | undefined)?.Spec?.Name, "w1");
      assert.equal((seen[1]?.object as Service | undefined)?.Spec?.Name, "w1b");
      assert.equal(seen[1]?.object.Version?.Index, seen[1]?.revision);
      assert.equal(seen[2]?.object.ID, "w1");
    });

    test("afterRevision replays recent history", T, async () => {
      const from = store.revision();
      await store.update((tx) => tx.create("services", svc("r1", "r1")));
      await store.update((tx) => tx.create("services", svc("r2", "r2")));
      const ac = new AbortController();
      const seen = await take(
        store.watch({ afterRevision: from, tables: ["services"], signal: ac.signal }),
        2,
      );
      ac.abort();
      assert.deepEqual(
        seen.map((e) => e.object.ID),
        ["r1", "r2"],
      );
      assert.equal(seen[0]?.revision, from + 1);
    });

    test("viewAndWatch has no gap", T, async () => {
      const writer = (async () => {
        for (let i = 0; i < 40; i++) await store.update((tx) => tx.create("tasks", task(`g${i}`, "gap")));
      })();
      await new Promise((r) => setTimeout(r, 5));
      const ac = new AbortController();
      const { result, revision, events } = store.viewAndWatch(
        (tx) => tx.lookup("tasks", "service", "gap").map((t) => t.ID),
        { tables: ["tasks"], signal: ac.signal },
      );
      await writer;
      const seen = await take(events, 40 - result.length);
      ac.abort();
      assert.ok(seen.every((e) => e.revision > revision));
      const all = new Set([...result, ...seen.map((e) => e.object.ID)]);
      assert.equal(all.size, 40);
      assert.equal(result.length + seen.length, 40);
    });

    test("a compacted revision cannot be replayed", T, async () => {
      const old = store.revision();
      await store.update((tx) => tx.create("services", svc("c1", "c1")));
      await store.update((tx) => tx.create("services", svc("c2", "c2")));
      await harness.compact(store);
      // A fresh instance: a running etcd store may still serve recent history from memory.
      const reader = harness.shared ? await open() : store;
      const events = reader.watch({ afterRevision: old - 1 });
      await assert.rejects(take(events, 1), (err: unknown) => {
        assert.ok(ShoalError.is(err, ErrorCode.FailedPrecondition), String(err));
        assert.match(err.message, /revision compacted/);
        return true;
      });
    });

    if (opts.shared) sharedTests(() => ({ store, open, harness }));
  });
}

function sharedTests(ctx: () => { store: Store; open: () => Promise<Store>; harness: StoreHarness }): void {
  test("two instances: a stale version loses, a rerun fn wins", T, async () => {
    const { store } = ctx();
    const other = await ctx().open();
    await store.update((tx) => tx.create("services", svc("cc", "cc", { n: "0" })));
    await waitFor(() => other.view((tx) => tx.get("services", "cc")) !== undefined);
    const v = store.view((tx) => tx.get("services", "cc"))!;
    const results = await Promise.allSettled([
      store.update((tx) => tx.update("services", { ...v, Spec: { Name: "cc", Labels: { n: "a" } } })),
      other.update((tx) => tx.update("services", { ...v, Spec: { Name: "cc", Labels: { n: "b" } } })),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    assert.equal(ok.length, 1, JSON.stringify(results));
    const failed = results.find((r) => r.status === "rejected");
    assert.ok(failed?.status === "rejected" && failed.reason instanceof SequenceConflictError);

    // Increments re-read inside fn: every one lands, through reruns on conflict.
    const inc = (s: Store) =>
      s.update((tx) => {
        const cur = tx.get("services", "cc")!;
        const n = Number(
          cur.Spec?.Labels?.n === "a" || cur.Spec?.Labels?.n === "b" ? 0 : cur.Spec?.Labels?.n,
        );
        tx.update("services", { ...cur, Spec: { Name: "cc", Labels: { n: String(n + 1) } } });
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => inc(i % 2 ? store : other)));
    await waitFor(() => store.view((tx) => tx.get("services", "cc"))?.Spec?.Labels?.n === "10");
  });

  test("reopen: state intact, watch from an old revision", T, async () => {
    const first = await ctx().open();
    const from = first.revision();
    await first.update((tx) => tx.create("services", svc("re1", "re1")));
    await first.update((tx) => tx.create("services", svc("re2", "re2")));
    const rev = first.revision();
    await first.close();
    const again = await ctx().open();
    assert.ok(again.revision() >= rev);
    assert.equal(again.view((tx) => tx.get("services", "re2"))?.Version?.Index, rev);
    const ac = new AbortController();
    const seen = await take(again.watch({ afterRevision: from, tables: ["services"], signal: ac.signal }), 2);
    ac.abort();
    assert.deepEqual(
      seen.map((e) => [e.kind, e.object.ID, e.revision]),
      [
        ["create", "re1", rev - 1],
        ["create", "re2", rev],
      ],
    );
  });
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
