import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { layout, MAX_INSTANCES } from "./layout.ts";
import { findRecorded, removeCluster } from "./persistent.ts";
import { readRecord, recordNames, removeRecord, socketLink, type UpRecord, writeRecord } from "./state.ts";

const root = mkdtempSync(join(tmpdir(), "shoal-devcluster-state-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** An instance number with no state dir on this machine right now. */
function unusedIdx(): number {
  for (let i = MAX_INSTANCES - 1; i >= 0; i--) if (!existsSync(layout(i).dir)) return i;
  throw new Error("every instance number is in use");
}

const record = (name: string, idx: number): UpRecord => ({
  name,
  idx,
  nodes: 3,
  managers: 1,
  created: "2026-01-01T00:00:00.000Z",
  dockerHost: `unix://${socketLink(name, root)}`,
});

describe("shoal up's records", () => {
  test("written, read, listed, replaced and removed; the socket link follows the first manager", () => {
    writeRecord(record("a", 7), "/tmp/shc7/n1/shoal.sock", root);
    writeRecord(record("b", 8), "/tmp/shc8/n1/shoal.sock", root);
    assert.deepEqual(readRecord("a", root), record("a", 7));
    assert.equal(readlinkSync(socketLink("a", root)), "/tmp/shc7/n1/shoal.sock");
    assert.deepEqual(recordNames(root), ["a", "b"]);
    writeRecord(record("a", 9), "/tmp/shc9/n1/shoal.sock", root);
    assert.equal(readRecord("a", root)?.idx, 9);
    assert.equal(readlinkSync(socketLink("a", root)), "/tmp/shc9/n1/shoal.sock");
    removeRecord("a", root);
    removeRecord("b", root);
    assert.equal(readRecord("a", root), undefined);
    assert.deepEqual(recordNames(root), []);
  });

  test("a record whose instance is gone (a reboot wiped /tmp) is found as gone and removed quietly", () => {
    assert.deepEqual(findRecorded("nothing-here", root), { state: "none" });
    const idx = unusedIdx();
    writeRecord(record("stale", idx), `/tmp/shc${idx}/n1/shoal.sock`, root);
    const found = findRecorded("stale", root);
    assert.equal(found.state, "gone");
    assert.deepEqual(removeCluster("stale", root), []);
    assert.equal(readRecord("stale", root), undefined);
    assert.equal(existsSync(join(root, "stale")), false);
  });
});
