import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultSwarmSpec, mergeSwarmSpec, validateSwarmSpec, zeroSwarmSpec } from "./swarm.ts";

test("init with the CLI's zero-valued spec gives Swarm's defaults", () => {
  const sent = { Labels: null as unknown as Record<string, string>, ...zeroSwarmSpec() };
  assert.deepEqual(mergeSwarmSpec(sent), defaultSwarmSpec());
});

test("update keeps explicit values, including a zero history limit", () => {
  const spec = mergeSwarmSpec({
    Name: "default",
    Orchestration: { TaskHistoryRetentionLimit: 0 },
    Dispatcher: { HeartbeatPeriod: 11_000_000_000 },
    CAConfig: { NodeCertExpiry: 30 * 3_600_000_000_000 },
  });
  assert.equal(spec.Orchestration?.TaskHistoryRetentionLimit, 0);
  assert.equal(spec.Dispatcher?.HeartbeatPeriod, 11_000_000_000);
  assert.equal(spec.CAConfig?.NodeCertExpiry, 30 * 3_600_000_000_000);
  assert.equal(spec.Raft?.SnapshotInterval, 10000);
});

test("validation uses SwarmKit's messages", () => {
  const short = mergeSwarmSpec({ CAConfig: { NodeCertExpiry: 15 * 60_000_000_000 } });
  assert.throws(
    () => validateSwarmSpec(short),
    /rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s/,
  );
  assert.throws(
    () => validateSwarmSpec({ ...defaultSwarmSpec(), Name: "other" }),
    /modification of cluster name is not allowed/,
  );
  assert.throws(
    () => validateSwarmSpec({ ...defaultSwarmSpec(), Dispatcher: { HeartbeatPeriod: -1 } }),
    /heartbeat time period cannot be a negative duration/,
  );
  validateSwarmSpec(defaultSwarmSpec());
});
