import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setImmediate } from "node:timers/promises";
import type { Etcd3 } from "etcd3";
import { MemoryLogger, VirtualClock } from "../base/index.ts";
import type { EtcdMemberState } from "./member.ts";
import { EtcdMembership } from "./membership.ts";

/** An etcd client whose member removal fails the way a call cut short by the member's exit does. */
function droppingClient(onRemove: () => void): Etcd3 {
  const members = [
    { ID: "1", name: "self", peerURLs: ["https://10.0.0.1:2380"] },
    { ID: "2", name: "other", peerURLs: ["https://10.0.0.2:2380"] },
  ];
  const cluster = {
    memberList: async () => ({ members }),
    memberRemove: async () => {
      onRemove();
      throw new Error("14 UNAVAILABLE: Connection dropped");
    },
  };
  return { cluster } as unknown as Etcd3;
}

/** Settles `p` on a virtual clock moved 100 ms at a time (at most `steps` times). */
async function settle<T>(clock: VirtualClock, p: Promise<T>, steps = 100): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  for (let i = 0; i < steps && !outcome; i++) {
    await setImmediate();
    clock.advance(100);
  }
  if (!outcome) throw new Error(`not settled after ${steps} steps`);
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

describe("EtcdMembership.removeLocal", () => {
  test("a removal whose answer is lost counts once the local member exits as removed", async () => {
    const clock = new VirtualClock();
    const local: { status: { state: EtcdMemberState } } = { status: { state: "running" } };
    // The member's exit is noticed a few hundred milliseconds after the call failed.
    const client = droppingClient(() => clock.setTimer(300, () => (local.status.state = "removed")));
    const log = new MemoryLogger();
    await settle(clock, new EtcdMembership(client, clock, log).removeLocal("self", local));
    assert.ok(log.lines.some((l) => /cut short/.test(String(l.msg))));
  });

  test("a failed removal with the member still running is an error", async () => {
    const clock = new VirtualClock();
    const local = { status: { state: "running" as EtcdMemberState } };
    const membership = new EtcdMembership(
      droppingClient(() => undefined),
      clock,
      new MemoryLogger(),
    );
    await assert.rejects(settle(clock, membership.removeLocal("self", local)), /Connection dropped/);
  });

  test("a member already removed is not asked again", async () => {
    const clock = new VirtualClock();
    const client = droppingClient(() => assert.fail("asked etcd again"));
    const membership = new EtcdMembership(client, clock, new MemoryLogger());
    await membership.removeLocal("self", { status: { state: "removed" } });
  });
});
