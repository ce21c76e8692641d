import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import type { Cluster, NetworkedNode, NetworkedTask, Task } from "../../api/index.ts";
import { silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import type { SwarmNetwork } from "../../store/types.ts";
import { makeNode } from "../common/fixtures.ts";
import { commitPlan } from "./commit.ts";
import { allocatorStep, newAllocatorMemory, readSnapshot } from "./controller.ts";
import { planPass } from "./pass.ts";
import { rebuildState } from "./rebuild.ts";
import { allocatorConfig } from "./state.ts";
import { duplicates, ingressPort, makeIngress, makeNetService, makeNetwork, makeNewTask } from "./testing.ts";

const VXLAN = "com.docker.network.driver.overlay.vxlanid_list";

describe("allocator loop over the memory store", () => {
  let store: MemoryStore;
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const deps = () => ({ store, clock, logger: silentLogger() });
  let memory = newAllocatorMemory();
  const net = (id: string) => store.view((tx) => tx.get("networks", id)) as SwarmNetwork;
  const task = (id: string) => store.view((tx) => tx.get("tasks", id)) as NetworkedTask | undefined;
  const node = (id: string) => store.view((tx) => tx.get("nodes", id)) as NetworkedNode;
  const step = async () => {
    await allocatorStep(deps(), memory);
    assert.deepEqual(duplicates(readSnapshot(store)), []);
  };

  beforeEach(async () => {
    store = new MemoryStore();
    memory = newAllocatorMemory();
    await store.update((tx) => {
      tx.create("clusters", { ID: "c", DefaultAddrPool: ["10.0.0.0/8"], SubnetSize: 24 } as Cluster);
      tx.create("networks", makeIngress());
      tx.create("nodes", makeNode("n1"));
    });
  });

  test("ingress gets 10.0.0.0/24 and VNI 4096; networks get the next subnets and VNIs", async () => {
    await step();
    const ingress = net("ingress-id");
    assert.deepEqual(ingress.IPAMOptions?.Configs, [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }]);
    assert.equal(ingress.DriverState?.Options?.[VXLAN], "4096");
    assert.deepEqual(
      node("n1").Attachments?.map((a) => [a.Network.ID, a.Addresses]),
      [["ingress-id", ["10.0.0.2/24"]]],
    );
    await store.update((tx) => {
      tx.create("networks", makeNetwork("user", { IPAMOptions: { Configs: [{ Subnet: "10.0.1.0/24" }] } }));
      tx.create("networks", makeNetwork("auto", {}, "2026-01-02T00:00:00Z"));
      tx.create(
        "networks",
        makeNetwork(
          "ranged",
          {
            IPAMOptions: {
              Configs: [{ Subnet: "10.20.0.0/16", Range: "10.20.5.0/24", Gateway: "10.20.0.254" }],
            },
          },
          "2026-01-03T00:00:00Z",
        ),
      );
    });
    await step();
    assert.equal(net("user").IPAMOptions?.Configs?.[0]?.Subnet, "10.0.1.0/24");
    assert.equal(net("user").DriverState?.Options?.[VXLAN], "4097");
    assert.deepEqual(
      net("auto").IPAMOptions?.Configs,
      [{ Subnet: "10.0.2.0/24", Gateway: "10.0.2.1" }],
      "skips the user's subnet",
    );
    assert.equal(net("auto").DriverState?.Options?.[VXLAN], "4098");
    assert.deepEqual(net("ranged").IPAMOptions?.Configs, [
      { Subnet: "10.20.0.0/16", Range: "10.20.5.0/24", Gateway: "10.20.0.254" },
    ]);
  });

  test("services get VIPs and published ports; tasks addresses and pending; nodes LB addresses", async () => {
    await store.update((tx) =>
      tx.create(
        "networks",
        makeNetwork("backend", { IPAMOptions: { Configs: [{ Subnet: "10.20.0.0/24" }] } }),
      ),
    );
    await step();
    const svc = makeNetService("web", {
      networks: ["backend"],
      ports: [ingressPort(80, 8080), ingressPort(81)],
    });
    await store.update((tx) => {
      tx.create("services", svc);
      tx.create("tasks", makeNewTask("t1", svc) as Task);
    });
    await step();
    const endpoint = store.view((tx) => tx.get("services", "web"))?.Endpoint;
    assert.deepEqual(
      endpoint?.Ports?.map((p) => p.PublishedPort),
      [8080, 30000],
    );
    assert.deepEqual(endpoint?.VirtualIPs, [
      { NetworkID: "ingress-id", Addr: "10.0.0.3/24" },
      { NetworkID: "backend", Addr: "10.20.0.2/24" },
    ]);
    const t1 = task("t1");
    assert.equal(t1?.Status?.State, "pending");
    assert.deepEqual(
      t1?.NetworksAttachments?.map((a) => a.Addresses),
      [["10.0.0.4/24"], ["10.20.0.3/24"]],
    );
    assert.deepEqual(t1?.Endpoint, endpoint);
    // Scheduled and running on n1: the node needs an address on backend too.
    await store.update((tx) =>
      tx.update("tasks", { ...(tx.get("tasks", "t1") as Task), NodeID: "n1", Status: { State: "running" } }),
    );
    await step();
    assert.deepEqual(
      node("n1")
        .Attachments?.map((a) => a.Network.ID)
        .sort(),
      ["backend", "ingress-id"],
    );
    // The task stops: its address is free again and the node drops backend.
    await store.update((tx) =>
      tx.update("tasks", { ...(tx.get("tasks", "t1") as Task), Status: { State: "shutdown" } }),
    );
    await step();
    assert.deepEqual(
      node("n1").Attachments?.map((a) => a.Network.ID),
      ["ingress-id"],
    );
    // An update drops the published ports and the network: VIPs and ports are released.
    await store.update((tx) => {
      const cur = tx.get("services", "web");
      tx.update("services", { ...cur, ID: "web", Spec: makeNetService("web", { mode: "dnsrr" }).Spec });
    });
    await step();
    const after = store.view((tx) => tx.get("services", "web"))?.Endpoint;
    assert.equal(after?.VirtualIPs, undefined);
    assert.equal(after?.Ports, undefined);
    // Port 8080 and the dynamic range are free for another service; dynamic ports go on serially.
    const other = makeNetService("other", { ports: [ingressPort(80, 8080), ingressPort(82)] });
    await store.update((tx) => tx.create("services", other));
    await step();
    assert.deepEqual(
      store.view((tx) => tx.get("services", "other"))?.Endpoint?.Ports?.map((p) => p.PublishedPort),
      [8080, 30001],
    );
  });

  test("every node has its own ingress address (the mesh's), freed when the node is removed", async () => {
    await store.update((tx) => tx.create("nodes", makeNode("n2")));
    await step();
    const addrOf = (id: string) =>
      node(id).Attachments?.find((a) => a.Network.ID === "ingress-id")?.Addresses;
    assert.deepEqual([addrOf("n1"), addrOf("n2")], [["10.0.0.2/24"], ["10.0.0.3/24"]]);
    await store.update((tx) => tx.delete("nodes", "n2"));
    await step();
    const snap = readSnapshot(store);
    const held = rebuildState(snap, allocatorConfig(snap.pool, snap.subnetSize))
      .addressTable()
      .get("ingress-id");
    assert.deepEqual(held, [
      ["10.0.0.1", "gw:ingress-id"],
      ["10.0.0.2", "node:n1"],
    ]);
  });

  test("a conflicting explicit port leaves the second service and its tasks waiting", async () => {
    const a = makeNetService("a", { ports: [ingressPort(80, 9000)] });
    const b = makeNetService("b", { ports: [ingressPort(80, 9000)] });
    await store.update((tx) => {
      tx.create("services", a);
      tx.create("services", b);
      tx.create("tasks", makeNewTask("tb", b) as Task);
    });
    await step();
    assert.equal(store.view((tx) => tx.get("services", "b"))?.Endpoint, undefined);
    assert.equal(task("tb")?.Status?.State, "new");
    assert.equal(task("tb")?.Status?.Err, "service b: port '9000' is already in use by service a");
    await store.update((tx) => tx.delete("services", "a"));
    await step();
    assert.deepEqual(store.view((tx) => tx.get("services", "b"))?.Endpoint?.Ports?.[0]?.PublishedPort, 9000);
    assert.equal(task("tb")?.Status?.State, "pending");
    assert.equal(task("tb")?.Status?.Err, undefined);
  });

  test("a full subnet: tasks wait in new with the reason, hold nothing, and get the addresses freed later", async () => {
    // a /29: .2 to .6 for the VIP, tasks and the node (.1 is the gateway)
    const tiny = makeNetwork("tiny-id", {
      Name: "tiny",
      IPAMOptions: { Configs: [{ Subnet: "10.9.0.0/29" }] },
    });
    const svc = makeNetService("s", { networks: ["tiny-id"] });
    await store.update((tx) => {
      tx.create("networks", tiny);
      tx.create("services", svc);
      for (const id of ["t1", "t2", "t3", "t4", "t5", "t6"]) tx.create("tasks", makeNewTask(id, svc) as Task);
    });
    await step();
    const ids = ["t1", "t2", "t3", "t4", "t5", "t6"];
    const states = ids.map((id) => task(id)?.Status?.State);
    assert.deepEqual(states, ["pending", "pending", "pending", "pending", "new", "new"]);
    for (const id of ["t5", "t6"]) {
      assert.equal(task(id)?.Status?.Err, "could not find an available IP on network tiny");
      assert.equal(task(id)?.NetworksAttachments, undefined);
    }
    // a second pass over the same state writes nothing more
    assert.equal(await allocatorStep(deps(), memory), 0);
    // t1 stops: its address goes to t5; t6 keeps waiting
    await store.update((tx) =>
      tx.update("tasks", { ...(tx.get("tasks", "t1") as Task), Status: { State: "shutdown" } }),
    );
    await step();
    assert.equal(task("t5")?.Status?.State, "pending");
    assert.equal(task("t5")?.Status?.Err, undefined);
    assert.deepEqual(
      task("t5")?.NetworksAttachments?.[0]?.Addresses,
      task("t1")?.NetworksAttachments?.[0]?.Addresses,
    );
    assert.equal(task("t6")?.Status?.State, "new");
  });

  test("a pending-delete network is deleted once no live task holds an address in it", async () => {
    await store.update((tx) => tx.create("networks", makeNetwork("gone")));
    const svc = makeNetService("s", { networks: ["gone"] });
    await store.update((tx) => {
      tx.create("services", svc);
      tx.create("tasks", makeNewTask("t", svc) as Task);
    });
    await step();
    await store.update((tx) => {
      tx.delete("services", "s");
      tx.update("networks", { ...net("gone"), PendingDelete: true });
    });
    await step();
    assert.ok(net("gone"), "kept while its task is live");
    await store.update((tx) =>
      tx.update("tasks", { ...(tx.get("tasks", "t") as Task), Status: { State: "shutdown" } }),
    );
    await step();
    assert.equal(net("gone"), undefined);
  });

  test("two passes planned from one snapshot: the second commit loses and nothing is handed out twice", async () => {
    await step();
    const svc = makeNetService("s", { ports: [ingressPort(80)] });
    await store.update((tx) => {
      tx.create("services", svc);
      tx.create("tasks", makeNewTask("t", svc) as Task);
    });
    const snap = readSnapshot(store);
    const config = allocatorConfig(snap.pool, snap.subnetSize);
    const first = planPass(snap, rebuildState(snap, config), "now");
    const second = planPass(snap, rebuildState(snap, config), "now");
    await commitPlan(store, snap, first);
    await assert.rejects(commitPlan(store, snap, second), (err: Error) =>
      /changed under this pass/.test(String(err.cause)),
    );
    assert.deepEqual(duplicates(readSnapshot(store)), []);
  });
});
