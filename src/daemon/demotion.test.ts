import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setImmediate } from "node:timers/promises";
import type { Node } from "../api/index.ts";
import { MemoryLogger, unavailable, VirtualClock } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import type { EtcdMemberState } from "../etcd/index.ts";
import { MemoryStore } from "../store/memory.ts";
import { type DemotionDeps, watchDemotion } from "./demotion.ts";

const manager = (id: string, addr: string): Node => ({
  ID: id,
  Spec: { Role: "manager" },
  Status: { State: "ready" },
  ManagerStatus: { Reachability: "reachable", Addr: addr },
});

/** Three managers, the first already demoted in the store. */
async function demotedStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.update((tx) => {
    tx.create("nodes", { ...manager("n1", "10.0.0.1:2377"), Spec: { Role: "worker" } });
    tx.create("nodes", manager("n2", "10.0.0.2:2377"));
    tx.create("nodes", manager("n3", "10.0.0.3:2377"));
  });
  return store;
}

/** Runs the watch on a virtual clock, a second at a time, until it returns (at most `seconds`). */
async function drive(clock: VirtualClock, watching: Promise<void>, seconds: number): Promise<boolean> {
  let done = false;
  void watching.then(() => {
    done = true;
  });
  for (let i = 0; i < seconds && !done; i++) {
    clock.advance(1000);
    for (let j = 0; j < 20; j++) await setImmediate();
  }
  return done;
}

describe("watchDemotion", () => {
  test("a removal call cut short by the member's exit is not redone against the dead store", async () => {
    const store = await demotedStore();
    const clock = new VirtualClock();
    const member: { status: { state: EtcdMemberState } } = { status: { state: "running" } };
    const calls = { stopManager: 0, removeLocal: 0, renew: [] as string[] };
    let demotedWith: string[] | undefined;
    const renewed = { certPem: "worker" } as unknown as NodeCredentials;
    let saved: NodeCredentials | undefined;
    const deps: DemotionDeps = {
      nodeId: "n1",
      store,
      member,
      clock,
      logger: new MemoryLogger(),
      membership: {
        removeLocal: async () => {
          calls.removeLocal++;
          if (calls.removeLocal > 1) return;
          // etcd committed the removal and stopped this member before answering: from now on the
          // local store takes no writes.
          member.status.state = "removed";
          store.update = () => Promise.reject(unavailable("connect ECONNREFUSED 127.0.0.1:2379"));
          throw unavailable("14 UNAVAILABLE: Connection dropped");
        },
      },
      stopManager: async () => {
        calls.stopManager++;
      },
      renew: async (addr) => {
        calls.renew.push(addr);
        return renewed;
      },
      save: async (c) => {
        saved = c;
      },
      demoted: (managers) => {
        demotedWith = managers;
      },
    };
    const n1 = () => store.view((tx) => tx.get("nodes", "n1"));
    assert.ok(await drive(clock, watchDemotion(deps, new AbortController().signal), 10));
    assert.equal(calls.stopManager, 1);
    assert.equal(calls.removeLocal, 2);
    assert.equal(n1()?.ManagerStatus, null, "ManagerStatus cleared before the member went");
    assert.deepEqual(calls.renew, ["10.0.0.2:2377"]);
    assert.equal(saved, renewed);
    assert.deepEqual(demotedWith, ["10.0.0.2:2377", "10.0.0.3:2377"]);
  });

  test("a manager whose node is still a manager does nothing", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.create("nodes", manager("n1", "10.0.0.1:2377")));
    const clock = new VirtualClock();
    let stopped = false;
    const deps: DemotionDeps = {
      nodeId: "n1",
      store,
      member: { status: { state: "running" } },
      clock,
      logger: new MemoryLogger(),
      membership: { removeLocal: async () => assert.fail("removed a manager's member") },
      stopManager: async () => {
        stopped = true;
      },
      renew: async () => assert.fail("renewed a manager's certificate"),
      save: async () => undefined,
      demoted: () => assert.fail("demoted a manager"),
    };
    const abort = new AbortController();
    const watching = watchDemotion(deps, abort.signal);
    assert.equal(await drive(clock, watching, 5), false);
    abort.abort();
    await watching;
    assert.equal(stopped, false);
  });
});
