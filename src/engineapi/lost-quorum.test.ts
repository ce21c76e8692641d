/**
 * A manager without a leader: every control call, read or write, is answered as moby answers
 * SwarmKit's raft-proxy error (500, the gRPC text), `/info` still answers, and the network list
 * falls back to dockerd's own networks as moby's getNetworksList does.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LostQuorumError } from "../base/index.ts";
import { call, FakeControlApi, type Harness, messageOf, startHarness } from "./testing/index.ts";

const RPC_LOST_QUORUM =
  "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

describe("a manager that lost the quorum", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.backend.manager = new FakeControlApi();
    h.backend.controlRefusal = new LostQuorumError();
  });
  after(() => h.stop());

  it("refuses reads and writes with 500 and SwarmKit's text through gRPC", async () => {
    for (const [method, path] of [
      ["GET", "/v1.41/nodes"],
      ["GET", "/v1.41/services"],
      ["GET", "/v1.41/services/web"],
      ["GET", "/v1.41/tasks"],
      ["GET", "/v1.41/secrets"],
      ["GET", "/v1.41/swarm"],
      ["POST", "/v1.41/swarm/update?version=10"],
    ] as const) {
      const body = method === "POST" ? { body: JSON.stringify({ Name: "default" }) } : {};
      const r = await call(h.socketPath, method, path, body);
      assert.equal(r.status, 500, `${method} ${path}`);
      assert.equal(messageOf(r), RPC_LOST_QUORUM, `${method} ${path}`);
    }
  });

  it("still answers /info and lists dockerd's own networks", async () => {
    assert.equal((await call(h.socketPath, "GET", "/v1.41/info")).status, 200);
    const before = h.dockerd.requests.length;
    const networks = await call(h.socketPath, "GET", "/v1.41/networks");
    assert.equal(networks.status, 200);
    assert.equal(h.dockerd.requests.at(-1)?.url, "/v1.41/networks");
    assert.ok(h.dockerd.requests.length > before);
  });
});
