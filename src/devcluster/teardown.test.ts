import assert from "node:assert/strict";
import { test } from "node:test";
import { liveDirOf } from "../daemon/node-keys.ts";
import { shoalLiveDir } from "./teardown.ts";

test("teardown looks for a node's plain key copy where the daemon puts it", () => {
  for (const dir of ["/tmp/shc7/n1/shoal", "/tmp/shc12/n3/shoal/", "relative/shoal"]) {
    assert.equal(shoalLiveDir(dir), liveDirOf(dir));
  }
});
