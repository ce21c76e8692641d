/**
 * Properties of rolling updates under a randomly slow agent (fast-check): whatever the replica
 * count, parallelism, order, delay and the order in which tasks happen to progress,
 * - stop-first never has more than Parallelism new tasks waiting to run, and never fewer than
 *   Replicas − Parallelism tasks running;
 * - start-first never has fewer than Replicas tasks running once converged;
 * - every update completes with exactly Replicas up-to-date tasks.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { SwarmTask } from "../../../api/index.ts";
import { envOf, World, webSpec, withEnv } from "./testing.ts";

const SVC = "svc1";

/** mulberry32: a tiny seeded PRNG, so a failing case replays exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const running = (tasks: SwarmTask[]) => tasks.filter((t) => t.Status?.State === "running").length;
const waitingNew = (tasks: SwarmTask[]) =>
  tasks.filter(
    (t) =>
      t.UpdateMonitor &&
      envOf(t).includes("V=2") &&
      t.Status?.State !== "running" &&
      (t.DesiredState === "ready" || t.DesiredState === "running"),
  ).length;

const scenario = fc.record({
  replicas: fc.integer({ min: 1, max: 6 }),
  parallelism: fc.integer({ min: 0, max: 3 }),
  order: fc.constantFrom("stop-first" as const, "start-first" as const),
  delayMs: fc.constantFrom(0, 300),
  seed: fc.integer(),
  speed: fc.double({ min: 0.2, max: 1, noNaN: true }),
});

test("rolling updates keep their availability guarantees and always complete", async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const w = new World(s.seed);
      await w.addNodes(2);
      const update = { Parallelism: s.parallelism, Order: s.order, Delay: s.delayMs * 1e6, Monitor: 500e6 };
      await w.createService(SVC, webSpec(s.replicas, ["V=1"], update));
      await w.until("converged", () => running(w.tasks(SVC)) === s.replicas);
      const rng = prng(s.seed);
      w.moves = () => rng() < s.speed;
      const violations: string[] = [];
      w.observe = () => {
        const tasks = w.tasks(SVC);
        const p = s.parallelism;
        if (s.order === "stop-first" && p > 0) {
          if (waitingNew(tasks) > p) violations.push(`${waitingNew(tasks)} new tasks waiting at ${w.now}`);
          if (running(tasks) < s.replicas - p) violations.push(`${running(tasks)} running at ${w.now}`);
        }
        if (s.order === "start-first" && running(tasks) < s.replicas) {
          violations.push(`start-first: ${running(tasks)} running at ${w.now}`);
        }
      };
      await w.updateService(SVC, withEnv(["V=2"]));
      await w.until("completed", () => w.service(SVC).UpdateStatus?.State === "completed", 3_000);
      await w.until("old tasks stopped", () => running(w.tasks(SVC)) === s.replicas, 200);
      assert.deepEqual(violations, []);
      const live = w.tasks(SVC).filter((t) => t.DesiredState === "running" && t.Status?.State === "running");
      assert.equal(live.length, s.replicas);
      assert.ok(live.every((t) => envOf(t).includes("V=2")));
    }),
    { numRuns: 60 },
  );
});
