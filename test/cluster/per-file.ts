/**
 * The end of a cluster test file's harness (README.md: one harness per file, built in `before`):
 * disposed after the file's tests, its daemons' log tails printed after each failed test.
 */
import assert from "node:assert/strict";
import { after, afterEach } from "node:test";
import type { ClusterHarness } from "./harness.ts";

/** `harness` reads the file's harness: undefined when `before` failed before building it. */
export function disposeAfterTests(harness: () => ClusterHarness | undefined, logLines = 60): void {
  after(async () => {
    await harness()?.dispose();
  });
  afterEach((t) => {
    // TestContext.passed exists at run time but not in @types/node 20.
    if ("passed" in t && t.passed === false) console.error(harness()?.logTails(logLines));
  });
}

/** FORWARD policy DROP on every node, as on a real host (Docker sets it so when it starts). */
export async function forwardPolicyDrop(harness: ClusterHarness): Promise<void> {
  for (const n of harness.nodes) {
    const r = await n.exec(["iptables", "-P", "FORWARD", "DROP"]);
    assert.equal(r.code, 0, r.stderr);
  }
}
