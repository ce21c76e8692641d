import assert from "node:assert/strict";
import { test } from "node:test";
import { Coalescer } from "./worker.ts";

/** A run that waits until released, counting its calls. */
function gated() {
  const calls: number[] = [];
  let release: () => void = () => undefined;
  const apply = async () => {
    calls.push(calls.length + 1);
    await new Promise<void>((r) => {
      release = r;
    });
  };
  return { calls, apply, release: () => release() };
}

const tick = () => new Promise((r) => setImmediate(r));

test("pokes during a run fold into one more run", async () => {
  const g = gated();
  const c = new Coalescer(g.apply, () => undefined);
  c.poke();
  await tick();
  for (let i = 0; i < 5; i++) c.poke();
  assert.equal(g.calls.length, 1, "no second run while the first is in progress");
  g.release();
  await tick();
  assert.equal(g.calls.length, 2, "the five pokes made one more run");
  g.release();
  await c.idle();
  assert.equal(g.calls.length, 2);
  c.poke();
  await tick();
  assert.equal(g.calls.length, 3, "a poke after the runs starts a new one");
  g.release();
  await c.idle();
});

test("a failing run is reported and makes idle() reject", async () => {
  const seen: unknown[] = [];
  const c = new Coalescer(
    async () => {
      throw new Error("dockerd gone");
    },
    (err) => seen.push(err),
  );
  c.poke();
  await assert.rejects(() => c.idle(), /dockerd gone/);
  assert.equal(seen.length, 1);
});
