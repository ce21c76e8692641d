import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryLogger, SystemClock } from "../base/index.ts";
import { ResumeRetry } from "./resume.ts";
import type { NodeRuntime } from "./runtime.ts";

function runtime(stopped: string[], name: string): NodeRuntime {
  return {
    stop: async () => {
      stopped.push(name);
    },
    taskLogs: () => {
      throw new Error("unused");
    },
  };
}

test("retries until the runtime starts, reporting the last failure", async () => {
  let attempts = 0;
  const started: NodeRuntime[] = [];
  const stopped: string[] = [];
  const retry = new ResumeRetry(
    {
      clock: new SystemClock(),
      logger: new MemoryLogger(),
      periodMs: 5,
      start: async () => {
        attempts++;
        if (attempts < 3) throw new Error(`no quorum (${attempts})`);
        return runtime(stopped, "rt");
      },
      started: (r) => started.push(r),
    },
    "no quorum (0)",
  );
  while (started.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(attempts, 3);
  assert.equal(retry.message, "no quorum (2)");
  await retry.cancel();
  assert.deepEqual(stopped, [], "a runtime handed over is not stopped by cancel");
});

test("cancel waits for an attempt under way and stops what it started", async () => {
  const stopped: string[] = [];
  let release: () => void = () => undefined;
  let begun = false;
  const started: NodeRuntime[] = [];
  const retry = new ResumeRetry(
    {
      clock: new SystemClock(),
      logger: new MemoryLogger(),
      periodMs: 5,
      start: () => {
        begun = true;
        return new Promise((resolve) => {
          release = () => resolve(runtime(stopped, "late"));
        });
      },
      started: (r) => started.push(r),
    },
    "x",
  );
  while (!begun) await new Promise((r) => setTimeout(r, 5));
  const cancelled = retry.cancel();
  release();
  await cancelled;
  assert.deepEqual(stopped, ["late"]);
  assert.deepEqual(started, []);
});
