import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkPeers } from "../../api/index.ts";
import { entryCommands, macOf, remoteEndpoints, selfAddress, vxlanCommands } from "./overlay.ts";
import type { LocalNetwork } from "./plan.ts";

const peers: NetworkPeers = {
  services: [],
  tasks: [
    { ID: "a", ServiceID: "s", NodeID: "me", Addresses: [{ NetworkID: "n1", Addr: "10.40.0.11/24" }] },
    { ID: "b", ServiceID: "s", NodeID: "n2", Addresses: [{ NetworkID: "n1", Addr: "10.40.0.21/24" }] },
    { ID: "c", ServiceID: "s", NodeID: "n3", Addresses: [{ NetworkID: "n9", Addr: "10.49.0.3/24" }] },
    { ID: "d", ServiceID: "s", NodeID: "gone", Addresses: [{ NetworkID: "n1", Addr: "10.40.0.31/24" }] },
    // not serving (starting or draining): its replies still cross the overlay
    {
      ID: "e",
      ServiceID: "s",
      NodeID: "n3",
      Addresses: [{ NetworkID: "n1", Addr: "10.40.0.33/24" }],
      Serving: false,
    },
  ],
  nodes: [
    { ID: "me", Addr: "10.89.0.1" },
    { ID: "n2", Addr: "10.89.0.2" },
    { ID: "n3", Addr: "10.89.0.3" },
  ],
};

test("macOf: dockerd 20.10's MAC from the address", () => {
  assert.equal(macOf("10.40.0.21"), "02:42:0a:28:00:15");
});

test("remoteEndpoints: other nodes' tasks on the network whose node address is known", () => {
  assert.deepEqual(remoteEndpoints(peers, "n1", "me"), [
    { ip: "10.40.0.21", mac: "02:42:0a:28:00:15", node: "10.89.0.2" },
    { ip: "10.40.0.33", mac: "02:42:0a:28:00:21", node: "10.89.0.3" },
  ]);
  assert.equal(selfAddress(peers, "me"), "10.89.0.1");
});

test("entryCommands: delete what went, append what came; nothing for what stayed", () => {
  const a = { ip: "10.40.0.21", mac: "02:42:0a:28:00:15", node: "10.89.0.2" };
  const b = { ip: "10.40.0.22", mac: "02:42:0a:28:00:16", node: "10.89.0.2" };
  assert.deepEqual(entryCommands("shv4097", [a], [a, b]), [
    ["bridge", "fdb", "append", b.mac, "dev", "shv4097", "dst", "10.89.0.2", "self", "permanent"],
    ["ip", "neigh", "replace", b.ip, "lladdr", b.mac, "dev", "shv4097", "nud", "permanent"],
  ]);
  assert.deepEqual(entryCommands("shv4097", [a, b], [b]), [
    ["bridge", "fdb", "del", a.mac, "dev", "shv4097", "dst", "10.89.0.2", "self"],
    ["ip", "neigh", "del", a.ip, "dev", "shv4097"],
  ]);
});

test("vxlanCommands: nolearning proxy device with MTU 1450 on the bridge; no flood entry", () => {
  const n: LocalNetwork = {
    id: "x",
    name: "shoal-x",
    bridge: "shlx",
    subnet: "10.40.0.0/24",
    gateway: "10.40.0.1",
    vni: 4097,
    internal: false,
  };
  assert.deepEqual(vxlanCommands(n, "10.89.0.1", false), [
    [
      "ip",
      "link",
      "add",
      "shv4097",
      "type",
      "vxlan",
      "id",
      "4097",
      "dstport",
      "4789",
      "local",
      "10.89.0.1",
      "nolearning",
      "proxy",
    ],
    ["ip", "link", "set", "shv4097", "mtu", "1450", "master", "shlx", "up"],
  ]);
  assert.equal(vxlanCommands(n, "10.89.0.1", true).length, 1);
});
