import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkPeers, SwarmNetworkObject, Task } from "../../api/index.ts";
import { silentLogger } from "../../base/index.ts";
import { DataPlane } from "./dataplane.ts";
import type { LocalNetwork } from "./plan.ts";
import type { ExistingNetwork, LocalNetworkDriver } from "./types.ts";

const backend: SwarmNetworkObject = {
  ID: "backendnetwork0000000000",
  Spec: { Name: "backend" },
  IPAMOptions: { Configs: [{ Subnet: "10.0.1.0/24", Gateway: "10.0.1.1" }] },
  DriverState: { Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097" } },
};
const task = (id: string, state: string, desired: string): Task =>
  ({
    ID: id,
    ServiceID: "svc",
    ServiceAnnotations: { Name: "api" },
    Slot: 1,
    Status: { State: state },
    DesiredState: desired,
    NetworksAttachments: [{ Network: backend, Addresses: ["10.0.1.5/24"] }],
  }) as unknown as Task;

class FakeDriver implements LocalNetworkDriver {
  nets = new Map<string, LocalNetwork>();
  failCreate = false;
  busy = false;
  async list(): Promise<ExistingNetwork[]> {
    return [...this.nets.values()].map((n) => ({ name: n.name, networkId: n.id }));
  }
  async create(n: LocalNetwork): Promise<void> {
    if (this.failCreate) throw new Error("Pool overlaps with other one on this address space");
    this.nets.set(n.name, n);
  }
  async remove(name: string): Promise<void> {
    if (this.busy) throw new Error("has active endpoints");
    this.nets.delete(name);
  }
  async connect(): Promise<void> {}
}

const plane = (driver: FakeDriver) =>
  new DataPlane({ driver, loadRuleset: async () => undefined, logger: silentLogger() });
const peers: NetworkPeers = { services: [], tasks: [] };

test("a bridge per network the tasks need; endpoints with the cluster address; removed when unused", async () => {
  const driver = new FakeDriver();
  const p = plane(driver);
  await p.update([task("t1", "assigned", "running")], peers);
  assert.deepEqual([...driver.nets.keys()], ["shoal-backendnetwo"]);
  assert.deepEqual(p.endpointsFor(task("t1", "assigned", "running")), [
    { name: "shoal-backendnetwo", addresses: ["10.0.1.5/24"], aliases: ["api.1.t1"] },
  ]);
  await p.update([task("t1", "shutdown", "shutdown")], peers);
  assert.deepEqual([...driver.nets.keys()], []);
  p.stop();
});

test("a bridge that cannot be created leaves the task on dockerd's default network", async () => {
  const driver = new FakeDriver();
  driver.failCreate = true;
  const p = plane(driver);
  await p.update([task("t1", "assigned", "running")], peers);
  assert.deepEqual(p.endpointsFor(task("t1", "assigned", "running")), []);
  p.stop();
});

test("a bridge still in use is removed by a later retry", async () => {
  const driver = new FakeDriver();
  const p = plane(driver);
  await p.update([task("t1", "running", "running")], peers);
  driver.busy = true;
  await p.update([], peers);
  assert.equal(driver.nets.size, 1);
  driver.busy = false;
  const deadline = Date.now() + 5000;
  while (driver.nets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(driver.nets.size, 0);
  p.stop();
});
