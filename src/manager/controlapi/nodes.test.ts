import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { getNode, listNodes, removeNode, updateNode } from "./nodes.ts";
import { createService } from "./services.ts";
import { addNode, addTask, basicSpec, makeDeps, rejects } from "./test-support.ts";

const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`;
const M1 = "mgr1aaaaaaaaaaaaaaaaaaaaa";
const W1 = "wrk1bbbbbbbbbbbbbbbbbbbbb";
const W2 = "wrk2ccccccccccccccccccccc";

async function cluster() {
  const deps = makeDeps();
  await addNode(deps, M1, { hostname: "manager-1", role: "manager", engineLabels: { ssd: "yes" } });
  await addNode(deps, W1, { hostname: "worker-1", labels: { zone: "a" } });
  await addNode(deps, W2, { hostname: "worker-2", labels: { zone: "b" }, state: "down" });
  return deps;
}

const hostnames = (nodes: Array<{ Description?: { Hostname?: string } }>) =>
  nodes.map((n) => n.Description?.Hostname).sort();

describe("listNodes and getNode", () => {
  test("filters: name prefix, id prefix, role, node.label, engine label, membership", async () => {
    const deps = await cluster();
    assert.deepEqual(hostnames(listNodes(deps, { name: ["worker"] })), ["worker-1", "worker-2"]);
    assert.deepEqual(hostnames(listNodes(deps, { id: ["mgr"] })), ["manager-1"]);
    assert.deepEqual(hostnames(listNodes(deps, { role: ["Worker"] })), ["worker-1", "worker-2"]);
    assert.deepEqual(hostnames(listNodes(deps, { "node.label": ["zone=b"] })), ["worker-2"]);
    assert.deepEqual(hostnames(listNodes(deps, { label: ["ssd"] })), ["manager-1"]);
    assert.equal(listNodes(deps, { membership: ["accepted"] }).length, 3);
    await rejects(
      () => listNodes(deps, { role: ["boss"] }),
      ErrorCode.Internal,
      "Invalid role filter: 'boss'",
    );
  });

  test("resolution by hostname and ID prefix", async () => {
    const deps = await cluster();
    assert.equal(getNode(deps, "worker-1").ID, W1);
    assert.equal(getNode(deps, "mgr1").ID, M1);
    await rejects(
      () => getNode(deps, "wrk"),
      ErrorCode.InvalidArgument,
      "node wrk is ambiguous (2 matches found)",
    );
    await rejects(() => getNode(deps, "self"), ErrorCode.NotFound, "node self not found");
  });
});

describe("updateNode", () => {
  test("sets the spec, normalising case; stale versions conflict", async () => {
    const deps = await cluster();
    const v = getNode(deps, W1).Version?.Index ?? 0;
    await updateNode(deps, "worker-1", v, {
      Labels: { zone: "c" },
      Role: "worker",
      Availability: "Drain" as "drain",
    });
    assert.deepEqual(getNode(deps, W1).Spec, {
      Labels: { zone: "c" },
      Role: "worker",
      Availability: "drain",
    });
    await rejects(
      () => updateNode(deps, W1, v, { Role: "worker", Availability: "active" }),
      ErrorCode.SequenceConflict,
      "update out of sequence",
    );
  });

  test("unknown role or availability", async () => {
    const deps = await cluster();
    const v = getNode(deps, W1).Version?.Index ?? 0;
    await rejects(
      () => updateNode(deps, W1, v, { Role: "boss" as "worker", Availability: "active" }),
      ErrorCode.InvalidArgument,
      'invalid Role: "boss"',
    );
    await rejects(
      () => updateNode(deps, W1, v, { Role: "worker" }),
      ErrorCode.InvalidArgument,
      'invalid Availability: ""',
    );
  });

  test("demoting the last manager is refused", async () => {
    const deps = await cluster();
    const v = getNode(deps, M1).Version?.Index ?? 0;
    await rejects(
      () => updateNode(deps, M1, v, { Role: "worker", Availability: "active" }),
      ErrorCode.FailedPrecondition,
      rpc("FailedPrecondition", "attempting to demote the last manager of the swarm"),
    );
  });

  test("demoting a manager when the rest cannot keep quorum is refused", async () => {
    const deps = await cluster();
    await addNode(deps, "mgr2ddddddddddddddddddddd", { role: "manager", reachability: "unreachable" });
    await addNode(deps, "mgr3eeeeeeeeeeeeeeeeeeeee", { role: "manager", reachability: "unreachable" });
    const v = getNode(deps, M1).Version?.Index ?? 0;
    await rejects(
      () => updateNode(deps, M1, v, { Role: "worker", Availability: "active" }),
      ErrorCode.FailedPrecondition,
      rpc("FailedPrecondition", "can't remove member from the raft: this would result in a loss of quorum"),
    );
  });
});

describe("removeNode", () => {
  test("a ready node needs force; a manager must be demoted first", async () => {
    const deps = await cluster();
    await rejects(
      () => removeNode(deps, "worker-1", false),
      ErrorCode.FailedPrecondition,
      rpc("FailedPrecondition", `node ${W1} is not down and can't be removed`),
    );
    await rejects(
      () => removeNode(deps, "manager-1", true),
      ErrorCode.FailedPrecondition,
      rpc(
        "FailedPrecondition",
        `node ${M1} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`,
      ),
    );
    await removeNode(deps, "worker-1", true);
    await rejects(() => getNode(deps, W1), ErrorCode.NotFound, `node ${W1} not found`);
  });

  test("a down node goes; its unfinished tasks become orphaned", async () => {
    const deps = await cluster();
    const { ID } = await createService(deps, basicSpec("web"));
    await addTask(deps, "t1", ID, { NodeID: W2 });
    await addTask(deps, "t2", ID, { NodeID: W2, Status: { State: "failed" } });
    await removeNode(deps, "worker-2", false);
    const tasks = deps.store.view((tx) => [tx.get("tasks", "t1"), tx.get("tasks", "t2")]);
    assert.equal(tasks[0]?.Status?.State, "orphaned");
    assert.equal(tasks[0]?.Status?.Message, "Task belonged to a node that has been deleted");
    assert.equal(tasks[1]?.Status?.State, "failed");
  });

  test("a removed node's certificate is blacklisted until any certificate of it expired", async () => {
    const deps = await cluster();
    await deps.store.update((tx) =>
      tx.create("clusters", {
        ID: "c1",
        Spec: {},
        Shoal: { BlacklistedCertificates: { old: { Expiry: "2000-01-01T00:00:00.000Z" } } },
      }),
    );
    await removeNode(deps, "worker-2", false);
    const list = deps.store.view((tx) => tx.get("clusters", "c1"))?.Shoal?.BlacklistedCertificates ?? {};
    assert.deepEqual(Object.keys(list), [W2], "expired entries are pruned");
    const expiry = Date.parse(list[W2]?.Expiry ?? "");
    assert.equal(expiry, deps.clock.now() + 90 * 24 * 3600 * 1000);
  });
});
