import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getStack, listStacks, MAX_STACK_REVISIONS, recordStackRevision, removeStack } from "./stacks.ts";
import { makeDeps } from "./test-support.ts";

describe("stacks with history", () => {
  it("records revisions in order and lists a summary", async () => {
    const deps = makeDeps();
    assert.deepEqual(await recordStackRevision(deps, "app", { Files: ["a.yml"], Objects: { v: 1 } }), {
      Index: 1,
    });
    assert.deepEqual(await recordStackRevision(deps, "app", { Objects: { v: 2 } }), { Index: 2 });
    assert.deepEqual(
      await recordStackRevision(deps, "app", { Kind: "rollback", RolledBackTo: 1, Objects: { v: 1 } }),
      { Index: 3 },
    );
    const stack = getStack(deps, "app");
    const revs = stack.Revisions as Array<{
      Index: number;
      Kind: string;
      RolledBackTo?: number;
      Files: string[];
    }>;
    assert.deepEqual(
      revs.map((r) => [r.Index, r.Kind, r.RolledBackTo]),
      [
        [1, "deploy", undefined],
        [2, "deploy", undefined],
        [3, "rollback", 1],
      ],
    );
    assert.deepEqual(revs[0]?.Files, ["a.yml"]);
    const [summary] = listStacks(deps);
    assert.equal(summary?.Name, "app");
    assert.equal(summary?.Revision, 3);
    assert.equal(summary?.Revisions, 3);
  });

  it("keeps the newest revisions only, indexes never reused", async () => {
    const deps = makeDeps();
    for (let i = 0; i < MAX_STACK_REVISIONS + 3; i++) await recordStackRevision(deps, "s", { Objects: i });
    const revs = getStack(deps, "s").Revisions as Array<{ Index: number }>;
    assert.equal(revs.length, MAX_STACK_REVISIONS);
    assert.equal(revs[0]?.Index, 4);
    assert.equal(revs[revs.length - 1]?.Index, MAX_STACK_REVISIONS + 3);
  });

  it("refuses bad names, unknown stacks; removes", async () => {
    const deps = makeDeps();
    await assert.rejects(recordStackRevision(deps, "bad name", { Objects: {} }), /invalid stack name/);
    assert.throws(() => getStack(deps, "nope"), /stack nope not found/);
    await recordStackRevision(deps, "app", { Objects: {} });
    await removeStack(deps, "app");
    assert.deepEqual(listStacks(deps), []);
  });
});
