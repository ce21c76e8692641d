import assert from "node:assert/strict";
import { test } from "node:test";
import { ETCD_RELOAD_SETTLE_MS, ETCD_RELOAD_STAGGER_MS, etcdReloadDelayMs } from "./etcd-trust.ts";

test("managers restart their etcd members one after the other, in node ID order", () => {
  const ids = ["m3", "m1", "m2"];
  const delays = ["m1", "m2", "m3"].map((id) => etcdReloadDelayMs(id, ids));
  assert.deepEqual(
    delays,
    [0, 1, 2].map((rank) => ETCD_RELOAD_SETTLE_MS + rank * ETCD_RELOAD_STAGGER_MS),
  );
  // A manager the store does not list (yet) goes first rather than never.
  assert.equal(etcdReloadDelayMs("mx", ids), ETCD_RELOAD_SETTLE_MS);
});
