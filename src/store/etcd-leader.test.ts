/**
 * Writes when the local etcd member has no leader: two members on loopback, one stopped. The
 * other cannot reach a quorum; a write fails within the leader wait with SwarmKit's lost-quorum
 * text instead of hanging until etcd's request timeout, and a write that starts while the member
 * is leaderless commits once the quorum is back within the wait. Reads (`assertQuorum`) are
 * refused a grace after the member lost its leader, and answered again once it has one.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import {
  LOST_QUORUM_MESSAGE,
  LostQuorumError,
  MemoryLogger,
  ShoalError,
  SystemClock,
} from "../base/index.ts";
import { defaultEtcdMemberConfig, EtcdMember, type EtcdMemberConfig, freePort } from "../etcd/index.ts";
import { svc } from "./conformance.ts";
import { DATA_KEY_BYTES } from "./encryption.ts";
import { defaultEtcdStoreConfig, EtcdStore } from "./etcd.ts";

const log = new MemoryLogger();
const clock = new SystemClock();

describe("etcd store without a leader", () => {
  let dir = "";
  const configs: EtcdMemberConfig[] = [];
  const running = new Map<string, EtcdMember>();
  let store: EtcdStore;
  /** The same member, waiting long enough for the stopped one to come back. */
  let patient: EtcdStore;
  let admin: Etcd3;

  const start = async (c: EtcdMemberConfig) => {
    const m = new EtcdMember(c, log, clock);
    running.set(c.name, m);
    await m.start();
  };
  const stop = async (name: string) => {
    await running.get(name)?.stop();
    running.delete(name);
  };
  /** Waits until member a reports no leader (asked without requiring one). */
  const leaderless = async () => {
    for (const end = Date.now() + 15_000; Date.now() < end; ) {
      if ((await admin.maintenance.status()).leader === "0") return;
      await clock.sleep(100);
    }
    assert.fail("member a still has a leader 15 s after b stopped");
  };

  before(async () => {
    assert.ok(existsSync("/usr/bin/etcd"), "/usr/bin/etcd is missing: install Debian's etcd-server");
    dir = await mkdtemp(join(tmpdir(), "shoal-etcd-leader-"));
    for (const name of ["a", "b"]) {
      configs.push({
        ...defaultEtcdMemberConfig(name, join(dir, name)),
        clientPort: await freePort(),
        peerPort: await freePort(),
      });
    }
    const initialCluster = configs.map((c) => `${c.name}=http://127.0.0.1:${c.peerPort}`).join(",");
    for (const c of configs) c.initialCluster = initialCluster;
    // A new two-member cluster is healthy only once both members run.
    await Promise.all(configs.map(start));
    const url = `http://127.0.0.1:${configs[0]?.clientPort}`;
    admin = new Etcd3({ hosts: url });
    const open = (leaderWaitMs: number) =>
      EtcdStore.open(
        {
          ...defaultEtcdStoreConfig([url], Buffer.alloc(DATA_KEY_BYTES, 7)),
          leaderWaitMs,
          leaderWatch: { pollMs: 100, graceMs: 1000 },
        },
        log,
        clock,
      );
    store = await open(2000);
    patient = await open(30_000);
    await store.update((tx) => tx.create("services", svc("s1", "web")));
  });
  after(async () => {
    await store?.close();
    await patient?.close();
    admin?.close();
    for (const name of [...running.keys()]) await stop(name);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a write fails within the leader wait with Swarm's lost-quorum message", async () => {
    store.assertQuorum();
    await stop("b");
    await leaderless();
    const started = Date.now();
    await assert.rejects(
      store.update((tx) => tx.create("services", svc("s2", "api"))),
      (err) => ShoalError.is(err, "LostQuorum") && err.message === LOST_QUORUM_MESSAGE,
    );
    const took = Date.now() - started;
    assert.ok(took >= 2000 && took < 5000, `failed after ${took} ms`);
    assert.equal(
      store.view((tx) => tx.get("services", "s2")),
      undefined,
    );
  });

  test("reads are refused once the member has had no leader for longer than the grace", async () => {
    await leaderless();
    // Leaderless for 2 s already (the failed write): past the 1 s grace and a 100 ms probe.
    assert.throws(() => store.assertQuorum(), LostQuorumError);
  });

  test("a write made while leaderless commits once the quorum is back within the wait", async () => {
    await leaderless();
    const write = patient.update((tx) => tx.create("services", svc("s3", "db")));
    await start(configs[1] as EtcdMemberConfig);
    await write;
    assert.equal(patient.view((tx) => tx.get("services", "s3"))?.Spec?.Name, "db");
    patient.assertQuorum();
  });

  test("reads are answered again once the member has a leader", async () => {
    for (const end = Date.now() + 5000; ; await clock.sleep(100)) {
      try {
        store.assertQuorum();
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
      }
    }
  });
});
