import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import { MemoryLogger, SystemClock } from "../base/index.ts";
import { defaultEtcdMemberConfig, EtcdMember } from "../etcd/index.ts";
import type { LeaderElection } from "./election.ts";
import { MemoryElectionArena, MemoryLeaderElection } from "./election.ts";
import { EtcdLeaderElection } from "./election-etcd.ts";

/** Records what one candidate saw. */
function candidate(election: LeaderElection) {
  const ac = new AbortController();
  const seen = { leaders: [] as Array<string | undefined>, leading: undefined as AbortSignal | undefined };
  const done = election.run(ac.signal, {
    onElected: (s) => {
      seen.leading = s;
    },
    onLeaderChange: (id) => seen.leaders.push(id),
  });
  const isLeader = () => seen.leading !== undefined && !seen.leading.aborted;
  return { ac, seen, done, isLeader };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

describe("memory election", () => {
  test("first campaigner wins, resign hands over, depose re-queues", { timeout: 60_000 }, async () => {
    const arena = new MemoryElectionArena();
    const a = candidate(new MemoryLeaderElection(arena, "a"));
    const b = candidate(new MemoryLeaderElection(arena, "b"));
    assert.ok(a.isLeader() && !b.isLeader());
    assert.equal(arena.leader(), "a");
    assert.equal(b.seen.leaders.at(-1), "a");
    const aLead = a.seen.leading!;
    a.ac.abort();
    await a.done;
    assert.ok(aLead.aborted);
    assert.ok(b.isLeader());
    assert.equal(b.seen.leaders.at(-1), "b");
    const c = candidate(new MemoryLeaderElection(arena, "c"));
    arena.depose();
    assert.ok(!b.isLeader() && c.isLeader());
    arena.depose();
    assert.ok(b.isLeader() && !c.isLeader());
    b.ac.abort();
    c.ac.abort();
    await Promise.all([b.done, c.done]);
    assert.equal(arena.leader(), undefined);
  });
});

describe("etcd election", () => {
  let dir: string;
  let member: EtcdMember;
  const clients: Etcd3[] = [];
  const log = new MemoryLogger();
  const client = () => {
    const c = new Etcd3({ hosts: member.clientUrl });
    clients.push(c);
    return c;
  };
  const election = (id: string) =>
    new EtcdLeaderElection(
      client(),
      { name: "test-leader", candidateId: id, ttlSeconds: 2 },
      log,
      new SystemClock(),
    );

  before(async () => {
    assert.ok(existsSync("/usr/bin/etcd"), "/usr/bin/etcd is missing: install Debian's etcd-server");
    dir = await mkdtemp(join(tmpdir(), "shoal-election-"));
    member = new EtcdMember({ ...defaultEtcdMemberConfig("el", dir), clientPort: 0, peerPort: 0 }, log);
    await member.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await member?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("one leader; resign hands over fast; a lost lease hands over and the loser campaigns again", {
    timeout: 60_000,
  }, async () => {
    const a = candidate(election("a"));
    await until(() => a.isLeader(), "a elected");
    const b = candidate(election("b"));
    await until(() => b.seen.leaders.at(-1) === "a", "b observes a");
    assert.ok(!b.isLeader());

    a.ac.abort();
    await a.done;
    const handover = await until(() => b.isLeader(), "b elected after a resigned");
    assert.ok(handover < 2000, `handover took ${handover} ms`);
    assert.ok(!a.isLeader());

    const c = candidate(election("c"));
    await until(() => c.seen.leaders.at(-1) === "b", "c observes b");
    // Revoke b's lease behind its back, as if it had expired.
    const admin = client();
    const keys = await admin.getAll().prefix("election/test-leader").exec();
    const bKv = keys.kvs.find((kv) => kv.value.toString() === "b");
    assert.ok(bKv, "b's campaign key");
    await admin.leaseClient.leaseRevoke({ ID: bKv.lease });
    await until(() => c.isLeader(), "c elected after b's lease was lost");
    await until(() => !b.isLeader(), "b told it lost the lead");
    await until(() => b.seen.leaders.at(-1) === "c", "b observes c");

    c.ac.abort();
    await c.done;
    await until(() => b.isLeader(), "b elected again after re-campaigning");
    b.ac.abort();
    await b.done;
  });
});
