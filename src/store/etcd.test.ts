import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import { ErrorCode, MemoryLogger, ShoalError, SystemClock } from "../base/index.ts";
import { defaultEtcdMemberConfig, EtcdMember } from "../etcd/index.ts";
import { storeConformance, svc, take } from "./conformance.ts";
import { DATA_KEY_BYTES } from "./encryption.ts";
import { defaultEtcdStoreConfig, EtcdStore } from "./etcd.ts";
import { CuttableProxy } from "./testing-proxy.ts";
import type { WriteTx } from "./types.ts";

const log = new MemoryLogger();
let dir: string | undefined;
let member: EtcdMember | undefined;
let admin: Etcd3 | undefined;
let prefixes = 0;
const dataKey = Buffer.alloc(DATA_KEY_BYTES, 42);

/** One etcd for the whole file, started on first use in a temp dir on free ports. */
async function etcd(): Promise<{ member: EtcdMember; admin: Etcd3 }> {
  if (!member) {
    assert.ok(existsSync("/usr/bin/etcd"), "/usr/bin/etcd is missing: install Debian's etcd-server");
    dir = await mkdtemp(join(tmpdir(), "shoal-etcd-store-"));
    member = new EtcdMember(
      { ...defaultEtcdMemberConfig("store-test", dir), clientPort: 0, peerPort: 0 },
      log,
    );
    await member.start();
    admin = new Etcd3({ hosts: member.clientUrl });
  }
  return { member, admin: admin! };
}

const openStore = async (prefix: string) =>
  EtcdStore.open(
    { ...defaultEtcdStoreConfig([(await etcd()).member.clientUrl], dataKey), prefix },
    log.child({ prefix }),
    new SystemClock(),
  );

after(async () => {
  admin?.close();
  await member?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

storeConformance(
  "etcd",
  async () => {
    const prefix = `/shoal-test/${++prefixes}/`;
    const { admin } = await etcd();
    return {
      shared: true,
      open: () => openStore(prefix),
      compact: async (store) => {
        await admin.kv.compact({ revision: store.revision(), physical: true });
      },
      dispose: async () => {},
    };
  },
  { shared: true },
);

describe("etcd store specifics", () => {
  let store: EtcdStore;
  before(async () => {
    store = await openStore(`/shoal-test/${++prefixes}/`);
  });
  after(async () => {
    await store?.close();
  });

  test("values are encrypted at rest: no plaintext in etcd's files, sealed values under the keys", {
    timeout: 60_000,
  }, async () => {
    const marker = "PLAINTEXT-MARKER-7f3a9c";
    await store.update((tx) => {
      for (let i = 0; i < 5; i++) tx.create("services", svc(`enc${i}`, `${marker}-${i}`, { note: marker }));
    });
    const { admin, member } = await etcd();
    const raw = await admin
      .get(`${(store as unknown as { config: { prefix: string } }).config.prefix}services/enc0`)
      .buffer();
    assert.ok(raw, "the object's key exists in etcd");
    assert.equal(raw[0], 1, "sealed value format byte");
    assert.ok(!raw.includes(Buffer.from(marker)));
    await new Promise((r) => setTimeout(r, 300)); // bbolt commits every 100 ms
    const files = await listFiles(member.dataDir);
    assert.ok(files.some((f) => f.endsWith("member/snap/db")));
    assert.ok(files.some((f) => f.endsWith(".wal")));
    let sawKey = false;
    for (const f of files) {
      const bytes = await readFile(f);
      assert.ok(!bytes.includes(Buffer.from(marker)), `plaintext found in ${f}`);
      sawKey ||= bytes.includes(Buffer.from("services/enc0"));
    }
    assert.ok(sawKey, "the keys themselves are in etcd's files");
  });

  test("health reports a watching store; close ends watches", { timeout: 60_000 }, async () => {
    const deadline = Date.now() + 5000;
    while (!store.health().watching && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.health().healthy, true);
    const other = await openStore(`/shoal-test/${++prefixes}/`);
    const events = other.watch();
    await other.close();
    const it = events[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, true);
    assert.equal(other.health().healthy, false);
    await assert.rejects(
      other.update(() => {}),
      /closed/,
    );
  });

  test("batch packs units into transactions of at most 128 writes", { timeout: 60_000 }, async () => {
    const before = store.revision();
    const units = Array.from({ length: 1000 }, (_, i) => (tx: WriteTx) => {
      tx.create("tasks", { ID: `pack${i}`, ServiceID: "pack" } as never);
    });
    const errors = await store.batch(units);
    assert.equal(errors.filter(Boolean).length, 0);
    assert.equal(store.view((tx) => tx.lookup("tasks", "service", "pack")).length, 1000);
    assert.equal(store.revision() - before, Math.ceil(1000 / 128));
  });

  test("a batch over a stale view falls back to one unit per transaction and reruns", {
    timeout: 60_000,
  }, async () => {
    const other = await openStore((store as unknown as { config: { prefix: string } }).config.prefix);
    try {
      await store.update((tx) => {
        for (let i = 0; i < 3; i++) tx.create("services", svc(`stale${i}`, `stale${i}`, { n: "0" }));
      });
      await until(
        () => other.view((tx) => tx.get("services", "stale2")) !== undefined,
        "other to see the objects",
      );
      const bump = (id: string) => (tx: WriteTx) => {
        const cur = tx.get("services", id)!;
        const n = Number(cur.Spec?.Labels?.n) + 1;
        tx.update("services", { ...cur, Spec: { Name: id, Labels: { n: String(n) } } });
      };
      // The other instance changes stale1 right before our batch; our cache has likely not seen it.
      await other.update(bump("stale1"));
      const errors = await store.batch([bump("stale0"), bump("stale1"), bump("stale2")]);
      assert.deepEqual(errors, [undefined, undefined, undefined]);
      const n = (id: string) => store.view((tx) => tx.get("services", id))?.Spec?.Labels?.n;
      assert.deepEqual([n("stale0"), n("stale1"), n("stale2")], ["1", "2", "1"]);
    } finally {
      await other.close();
    }
  });

  test("a transaction too large for etcd is refused before it is sent", { timeout: 60_000 }, async () => {
    await assert.rejects(
      store.update((tx) => {
        for (let i = 0; i < 129; i++) tx.create("tasks", { ID: `big${i}` } as never);
      }),
      /at most 128/,
    );
  });
});

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return out;
}

describe("etcd store when etcd goes away", () => {
  let outageDir: string;
  const members: EtcdMember[] = [];
  const stores: EtcdStore[] = [];
  before(async () => {
    outageDir = await mkdtemp(join(tmpdir(), "shoal-etcd-outage-"));
  });
  after(async () => {
    for (const s of stores) await s.close();
    for (const m of members) await m.stop();
    await rm(outageDir, { recursive: true, force: true });
  });

  test("writes fail with Unavailable, health reports it, and the store recovers without losing events", {
    timeout: 60_000,
  }, async () => {
    const startMember = async (clientPort: number, peerPort: number) => {
      const m = new EtcdMember(
        { ...defaultEtcdMemberConfig("outage", outageDir), clientPort, peerPort },
        log,
      );
      members.push(m);
      await m.start();
      return m;
    };
    const first = await startMember(0, 0);
    const ports = [Number(new URL(first.clientUrl).port), Number(new URL(first.peerUrl).port)] as const;
    const open = async () => {
      const s = await EtcdStore.open(
        { ...defaultEtcdStoreConfig([first.clientUrl], dataKey), callTimeoutMs: 1000 },
        log,
        new SystemClock(),
      );
      stores.push(s);
      return s;
    };
    const s1 = await open();
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of s1.watch({ tables: ["services"], signal: ac.signal }))
        seen.push(`${e.kind}:${e.object.ID}`);
    })();
    await s1.update((tx) => tx.create("services", svc("o1", "o1")));

    await first.stop();
    await assert.rejects(
      s1.update((tx) => tx.create("services", svc("o2", "o2"))),
      (err: unknown) => ShoalError.is(err, ErrorCode.Unavailable),
    );
    await until(() => !s1.health().healthy, "health to report the outage");
    assert.equal(s1.view((tx) => tx.get("services", "o1"))?.ID, "o1", "reads keep working from the cache");

    await startMember(...ports);
    const s2 = await open();
    await s2.update((tx) => tx.create("services", svc("o3", "o3")));
    await until(() => s1.health().healthy, "health to recover", 15_000);
    await until(() => s1.view((tx) => tx.get("services", "o3")) !== undefined, "s1 to see o3");
    await s1.update((tx) => tx.create("services", svc("o4", "o4")));
    await until(() => seen.length >= 3, "watch events");
    ac.abort();
    await reading;
    assert.deepEqual(seen, ["create:o1", "create:o3", "create:o4"]);
    assert.equal(
      s2.view((tx) => tx.get("services", "o2")),
      undefined,
    );
  });
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("etcd store whose watch lost its history", () => {
  test("relists after a compaction it missed and reports the difference as events", {
    timeout: 60_000,
  }, async () => {
    const { member, admin } = await etcd();
    const prefix = `/shoal-test/${++prefixes}/`;
    const writer = await openStore(prefix);
    const proxy = new CuttableProxy(Number(new URL(member.clientUrl).port));
    await proxy.start();
    const reader = await EtcdStore.open(
      { ...defaultEtcdStoreConfig([`http://127.0.0.1:${proxy.port}`], dataKey), prefix, callTimeoutMs: 1000 },
      log,
      new SystemClock(),
    );
    const ac = new AbortController();
    try {
      await writer.update((tx) => {
        tx.create("services", svc("keep", "keep"));
        tx.create("services", svc("change", "change"));
        tx.create("services", svc("gone", "gone"));
      });
      await until(() => reader.view((tx) => tx.list("services")).length === 3, "reader to load");
      const events = reader.watch({ tables: ["services"], signal: ac.signal });

      proxy.cut();
      await until(() => !reader.health().watching, "reader's watch to drop");
      const change = writer.view((tx) => tx.get("services", "change"))!;
      await writer.update((tx) => {
        tx.update("services", { ...change, Spec: { Name: "changed" } });
        tx.delete("services", "gone");
        tx.create("services", svc("new", "new"));
      });
      await admin.kv.compact({ revision: writer.revision(), physical: true });
      proxy.restore();

      const seen = await take(events, 3, 15_000);
      assert.deepEqual(seen.map((e) => `${e.kind}:${e.object.ID}`).sort(), [
        "create:new",
        "delete:gone",
        "update:change",
      ]);
      assert.equal(reader.view((tx) => tx.get("services", "change"))?.Spec?.Name, "changed");
      assert.deepEqual(reader.view((tx) => tx.list("services").map((s) => s.ID)).sort(), [
        "change",
        "keep",
        "new",
      ]);
      await until(() => reader.health().healthy, "reader healthy again");
    } finally {
      ac.abort();
      await reader.close();
      await writer.close();
      await proxy.stop();
    }
  });
});
