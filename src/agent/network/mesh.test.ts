import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkPeers, SwarmNetworkObject } from "../../api/index.ts";
import {
  bridgeCommands,
  dockerUserRules,
  forwardInsertAt,
  meshPlan,
  meshRemoteNodes,
  meshRuleset,
  meshTable,
  staleRules,
  staleTables,
} from "./mesh.ts";

const ingress: SwarmNetworkObject = {
  ID: "ingressnetwork0000000000",
  Spec: { Name: "ingress", Ingress: true },
  IPAMOptions: { Configs: [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }] },
  DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4096" } },
};
const I = ingress.ID;

const peers: NetworkPeers = {
  services: [{ ID: "web", Name: "web", Mode: "vip", VirtualIPs: [{ NetworkID: I, Addr: "10.0.0.2/24" }] }],
  tasks: [
    { ID: "t1", ServiceID: "web", NodeID: "n2", Addresses: [{ NetworkID: I, Addr: "10.0.0.7/24" }] },
    { ID: "t2", ServiceID: "web", NodeID: "n3", Addresses: [{ NetworkID: I, Addr: "10.0.0.6/24" }] },
    // a task on another network of the same service is no mesh backend
    { ID: "t3", ServiceID: "web", NodeID: "n3", Addresses: [{ NetworkID: "backend", Addr: "10.0.1.6/24" }] },
    { ID: "t4", ServiceID: "dns", NodeID: "n2", Addresses: [{ NetworkID: I, Addr: "10.0.0.9/24" }] },
    // starting or draining: no mesh backend
    {
      ID: "t5",
      ServiceID: "web",
      NodeID: "n2",
      Addresses: [{ NetworkID: I, Addr: "10.0.0.8/24" }],
      Serving: false,
    },
  ],
  nodes: [{ ID: "n1", Addr: "172.16.5.1" }],
  mesh: {
    Network: ingress,
    services: [
      {
        ID: "web",
        Ports: [
          { Protocol: "tcp", PublishedPort: 8080, TargetPort: 80 },
          { Protocol: "tcp", PublishedPort: 8443, TargetPort: 443 },
        ],
      },
      { ID: "dns", Ports: [{ Protocol: "udp", PublishedPort: 30000, TargetPort: 53 }] },
      { ID: "idle", Ports: [{ Protocol: "tcp", PublishedPort: 9000, TargetPort: 80 }] },
    ],
    nodes: [
      { ID: "n1", Addr: "172.16.5.1", IngressAddr: "10.0.0.3/24" },
      { ID: "n2", Addr: "172.16.5.2", IngressAddr: "10.0.0.4/24" },
      { ID: "n3", Addr: "172.16.5.3", IngressAddr: "10.0.0.5/24" },
    ],
  },
};

test("meshPlan: the node's ingress address and MAC, every published port with its running tasks", () => {
  const plan = meshPlan(peers, "n1");
  assert.ok(plan);
  assert.equal(plan.network.bridge, "shlingressnetwo");
  assert.equal(plan.address, "10.0.0.3");
  assert.equal(plan.mac, "02:42:0a:00:00:03");
  assert.deepEqual(plan.rules, [
    { protocol: "tcp", port: 8080, backends: ["10.0.0.6:80", "10.0.0.7:80"] },
    { protocol: "tcp", port: 8443, backends: ["10.0.0.6:443", "10.0.0.7:443"] },
    { protocol: "tcp", port: 9000, backends: [] },
    { protocol: "udp", port: 30000, backends: ["10.0.0.9:53"] },
  ]);
});

test("meshPlan: nothing without a mesh view or before the node has its ingress address", () => {
  assert.equal(meshPlan(undefined, "n1"), undefined);
  assert.equal(meshPlan({ ...peers, mesh: undefined }, "n1"), undefined);
  assert.equal(meshPlan(peers, "n9"), undefined);
});

test("meshRemoteNodes: the other nodes' ingress addresses behind their underlay addresses", () => {
  assert.deepEqual(meshRemoteNodes(peers, "n2"), [
    { ip: "10.0.0.3", mac: "02:42:0a:00:00:03", node: "172.16.5.1" },
    { ip: "10.0.0.5", mac: "02:42:0a:00:00:05", node: "172.16.5.3" },
  ]);
  assert.deepEqual(meshRemoteNodes(undefined, "n2"), []);
});

test("meshRuleset: DNAT from outside and from the node, round robin, SNAT to the node's address, refusals", () => {
  const plan = meshPlan(peers, "n1");
  assert.ok(plan);
  const dnat = [
    "    fib daddr type local tcp dport 8080 dnat ip to numgen inc mod 2 map { 0 : 10.0.0.6 . 80, 1 : 10.0.0.7 . 80 }",
    "    fib daddr type local tcp dport 8443 dnat ip to numgen inc mod 2 map { 0 : 10.0.0.6 . 443, 1 : 10.0.0.7 . 443 }",
    "    fib daddr type local udp dport 30000 dnat ip to 10.0.0.9:53",
  ];
  assert.equal(
    meshRuleset("shoal_mesh_42", plan),
    [
      "add table ip shoal_mesh_42",
      "delete table ip shoal_mesh_42",
      "table ip shoal_mesh_42 {",
      "  chain prerouting {",
      "    type nat hook prerouting priority dstnat; policy accept;",
      ...dnat,
      "  }",
      "  chain output {",
      "    type nat hook output priority -100; policy accept;",
      ...dnat,
      "  }",
      "  chain postrouting {",
      "    type nat hook postrouting priority srcnat; policy accept;",
      '    oifname "shlingressnetwo" ct status dnat ip daddr 10.0.0.0/24 snat ip to 10.0.0.3',
      "  }",
      "  chain input {",
      "    type filter hook input priority filter; policy accept;",
      "    fib daddr type local tcp dport 9000 reject with tcp reset",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  assert.equal(meshTable(42), "shoal_mesh_42");
  // keeping client addresses: only the node's own and ingress sources are SNATed
  const keep = meshPlan(peers, "n1", true);
  assert.ok(keep);
  const post = meshRuleset("t", keep)
    .split("\n")
    .filter((l) => l.includes("snat"));
  assert.deepEqual(post, [
    '    oifname "shlingressnetwo" ct status dnat ip daddr 10.0.0.0/24 fib saddr type local snat ip to 10.0.0.3',
    '    oifname "shlingressnetwo" ct status dnat ip daddr 10.0.0.0/24 ip saddr 10.0.0.0/24 snat ip to 10.0.0.3',
  ]);
});

test("bridgeCommands and dockerUserRules", () => {
  const plan = meshPlan(peers, "n1");
  assert.ok(plan);
  assert.deepEqual(bridgeCommands(plan), [
    ["ip", "link", "set", "dev", "shlingressnetwo", "address", "02:42:0a:00:00:03"],
    ["ip", "addr", "replace", "10.0.0.3/32", "dev", "shlingressnetwo"],
    ["sysctl", "-qw", "net.ipv4.conf.shlingressnetwo.route_localnet=1"],
  ]);
  const tail = ["-m", "conntrack", "--ctstate", "DNAT", "-m", "comment", "--comment", "shoal-mesh-42"];
  assert.deepEqual(dockerUserRules("shlx", 42), [
    ["-o", "shlx", ...tail, "-j", "ACCEPT"],
    ["-i", "shlx", ...tail, "-j", "ACCEPT"],
  ]);
});

test("staleTables and staleRules: only those of dead daemons", () => {
  const alive = (pid: number) => pid === 7;
  const tables = "table ip nat\ntable ip shoal_mesh_7\ntable ip shoal_mesh_99\ntable ip shoal_vip\n";
  assert.deepEqual(staleTables(tables, alive), ["shoal_mesh_99"]);
  const rules = [
    "-N DOCKER-USER",
    "-A DOCKER-USER -o shlx -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT",
    "-A DOCKER-USER -i shlx -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "-A DOCKER-USER -j RETURN",
  ].join("\n");
  assert.deepEqual(staleRules(rules, alive), [
    [
      "-o",
      "shlx",
      "-m",
      "conntrack",
      "--ctstate",
      "DNAT",
      "-m",
      "comment",
      "--comment",
      "shoal-mesh-99",
      "-j",
      "ACCEPT",
    ],
  ]);
});

test("staleRules in FORWARD; forwardInsertAt: right after the jump to DOCKER-USER, else at the top", () => {
  const forward = [
    "-P FORWARD DROP",
    "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
    "-A FORWARD -j DOCKER-USER",
    "-A FORWARD -o shlx -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT",
    "-A FORWARD -o docker0 -j DOCKER",
  ].join("\n");
  assert.equal(forwardInsertAt(forward), 3);
  assert.equal(forwardInsertAt("-P FORWARD ACCEPT\n-A FORWARD -o docker0 -j DOCKER\n"), 1);
  assert.equal(forwardInsertAt(""), 1);
  assert.deepEqual(
    staleRules(forward, (pid) => pid === 7, "FORWARD").map((r) => r.slice(0, 2)),
    [["-o", "shlx"]],
  );
  assert.deepEqual(
    staleRules(forward, () => false),
    [],
    "only the named chain's lines",
  );
});
