import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkedTask, NetworkPeers, SwarmNetworkObject, Task } from "../../api/index.ts";
import {
  discoveryNetworks,
  localNetworkOf,
  taskEndpoints,
  vipBackends,
  vipRuleset,
  wantedNetworks,
} from "./plan.ts";

const net = (id: string, subnet: string, extra: Partial<SwarmNetworkObject> = {}): SwarmNetworkObject => ({
  ID: id,
  Spec: { Name: id },
  IPAMOptions: { Configs: [{ Subnet: subnet, Gateway: subnet.replace(/0\/\d+$/, "1") }] },
  DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097" } },
  ...extra,
});
const ingress = net("ingressnetwork0000000000", "10.0.0.0/24", {
  Spec: { Name: "ingress", Ingress: true },
});
const backend = net("backendnetwork0000000000", "10.0.1.0/24");
const front = net("frontnetwork000000000000", "10.0.2.0/24");

const task = (id: string, state: string, desired: string, atts: NetworkedTask["NetworksAttachments"]): Task =>
  ({
    ID: id,
    ServiceID: "svc",
    Slot: 1,
    Status: { State: state },
    DesiredState: desired,
    NetworksAttachments: atts,
  }) as unknown as Task;

test("wantedNetworks: allocated networks of live tasks, ingress included", () => {
  const t1 = task("t1", "running", "running", [
    { Network: ingress, Addresses: ["10.0.0.5/24"] },
    { Network: backend, Addresses: ["10.0.1.5/24"] },
  ]);
  const gone = task("t2", "shutdown", "shutdown", [{ Network: front, Addresses: ["10.0.2.5/24"] }]);
  const wanted = wantedNetworks([t1, gone]);
  assert.deepEqual(
    [...wanted.values()],
    [
      {
        id: ingress.ID,
        name: "shoal-ingressnetwo",
        bridge: "shlingressnetwo",
        subnet: "10.0.0.0/24",
        gateway: "10.0.0.1",
        vni: 4097,
        internal: false,
      },
      {
        id: backend.ID,
        name: "shoal-backendnetwo",
        bridge: "shlbackendnetwo",
        subnet: "10.0.1.0/24",
        gateway: "10.0.1.1",
        vni: 4097,
        internal: false,
      },
    ],
  );
  // the routing mesh wants ingress on a node without tasks
  assert.deepEqual([...wantedNetworks([], localNetworkOf(ingress)).keys()], [ingress.ID]);
  // a task still stopping keeps its networks
  assert.equal(wantedNetworks([task("t3", "running", "shutdown", [{ Network: front }])]).size, 1);
  // an unallocated network is not planned
  assert.equal(
    wantedNetworks([task("t4", "running", "running", [{ Network: { ID: "x", Spec: { Name: "x" } } }])]).size,
    0,
  );
});

test("taskEndpoints: one per network in order (ingress first), cluster address, task name alias", () => {
  const t = task("abc", "assigned", "running", [
    { Network: ingress, Addresses: ["10.0.0.5/24"] },
    { Network: backend, Addresses: ["10.0.1.5/24"], Aliases: ["db"] },
    { Network: front, Addresses: ["10.0.2.7/24"] },
  ]);
  assert.deepEqual(taskEndpoints(t, "api"), [
    { name: "shoal-ingressnetwo", addresses: ["10.0.0.5/24"], aliases: ["api.1.abc"] },
    { name: "shoal-backendnetwo", addresses: ["10.0.1.5/24"], aliases: ["api.1.abc"] },
    { name: "shoal-frontnetwork", addresses: ["10.0.2.7/24"], aliases: ["api.1.abc"] },
  ]);
  // no service discovery or VIPs on ingress, as in Swarm
  assert.deepEqual([...discoveryNetworks(t)], [backend.ID, front.ID]);
});

const peers: NetworkPeers = {
  services: [
    { ID: "s1", Name: "api", Mode: "vip", VirtualIPs: [{ NetworkID: "n1", Addr: "10.0.1.2/24" }] },
    { ID: "s2", Name: "db", Mode: "dnsrr", VirtualIPs: [] },
    { ID: "s3", Name: "idle", Mode: "vip", VirtualIPs: [{ NetworkID: "n1", Addr: "10.0.1.9/24" }] },
    { ID: "s4", Name: "other", Mode: "vip", VirtualIPs: [{ NetworkID: "n2", Addr: "10.0.2.2/24" }] },
  ],
  tasks: [
    { ID: "a", ServiceID: "s1", NodeID: "x", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.4/24" }] },
    { ID: "b", ServiceID: "s1", NodeID: "y", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.3/24" }] },
    { ID: "c", ServiceID: "s2", NodeID: "x", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.7/24" }] },
    // starting or draining: reachable, but no backend
    {
      ID: "d",
      ServiceID: "s1",
      NodeID: "y",
      Addresses: [{ NetworkID: "n1", Addr: "10.0.1.5/24" }],
      Serving: false,
    },
  ],
};

test("vipBackends: VIPs on the container's networks with their serving tasks there; dnsrr has none", () => {
  assert.deepEqual(vipBackends(peers, new Set(["n1"])), [
    { vip: "10.0.1.2", backends: ["10.0.1.3", "10.0.1.4"] },
    { vip: "10.0.1.9", backends: [] },
  ]);
  assert.deepEqual(vipBackends(undefined, new Set(["n1"])), []);
});

test("vipRuleset: atomic replace, numgen map, single backend, reject without backends", () => {
  assert.equal(
    vipRuleset([
      { vip: "10.0.1.2", backends: ["10.0.1.3", "10.0.1.4"] },
      { vip: "10.0.1.8", backends: ["10.0.1.5"] },
      { vip: "10.0.1.9", backends: [] },
    ]),
    [
      "add table ip shoal_vip",
      "delete table ip shoal_vip",
      "table ip shoal_vip {",
      "  chain out {",
      "    type nat hook output priority -100; policy accept;",
      "    ip daddr 10.0.1.2 dnat to numgen random mod 2 map { 0 : 10.0.1.3, 1 : 10.0.1.4 }",
      "    ip daddr 10.0.1.8 dnat to 10.0.1.5",
      "    ip daddr 10.0.1.9 reject",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
});
