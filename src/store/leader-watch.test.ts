import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VirtualClock } from "../base/index.ts";
import { LeaderWatch, quorumLost } from "./leader-watch.ts";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("quorumLost", () => {
  it("holds only once the last confirmed leader is older than the grace", () => {
    assert.equal(quorumLost(1000, 1000, 5000), false);
    assert.equal(quorumLost(1000, 6000, 5000), false);
    assert.equal(quorumLost(1000, 6001, 5000), true);
  });
});

describe("LeaderWatch", () => {
  const config = { pollMs: 500, graceMs: 5000 };

  it("is not lost when opened: the store opened through a call that needed a leader", () => {
    const watch = new LeaderWatch(async () => false, new VirtualClock(), config);
    assert.equal(watch.lost(), false);
  });

  it("loses the quorum a grace after the last probe that saw a leader, and regains it at the next one", async () => {
    const clock = new VirtualClock();
    let leader = true;
    const watch = new LeaderWatch(async () => leader, clock, config);
    const stop = new AbortController();
    const run = watch.run(stop.signal);
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100);
        await settle();
      }
    };
    await step(2000);
    leader = false;
    // The last probe that saw the leader ran at 1.5 s or 2 s.
    await step(4000);
    assert.equal(watch.lost(), false, "within the grace of the last leader seen");
    await step(2000);
    assert.equal(watch.lost(), true);
    leader = true;
    await step(500);
    assert.equal(watch.lost(), false);
    stop.abort();
    await run;
  });

  it("counts a failing probe (member unreachable) as no leader, and a committed write as one", async () => {
    const clock = new VirtualClock();
    const watch = new LeaderWatch(async () => Promise.reject(new Error("etcd: unreachable")), clock, config);
    const stop = new AbortController();
    const run = watch.run(stop.signal);
    for (let t = 0; t < 6000; t += 100) {
      clock.advance(100);
      await settle();
    }
    assert.equal(watch.lost(), true);
    watch.sawLeader();
    assert.equal(watch.lost(), false);
    stop.abort();
    await run;
  });
});
