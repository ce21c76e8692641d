import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkPeers, SwarmNetworkObject, Task } from "../../api/index.ts";
import { silentLogger } from "../../base/index.ts";
import { DataPlane } from "./dataplane.ts";
import { meshPlan } from "./mesh.ts";
import { NodeMesh } from "./node-mesh.ts";
import type { LocalNetwork } from "./plan.ts";
import type { ExistingNetwork, LocalNetworkDriver } from "./types.ts";

const ingress: SwarmNetworkObject = {
  ID: "ingressnetwork0000000000",
  Spec: { Name: "ingress", Ingress: true },
  IPAMOptions: { Configs: [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }] },
  DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4096" } },
};
const view = (ports: number[]): NetworkPeers => ({
  services: [],
  tasks: [
    { ID: "t1", ServiceID: "web", NodeID: "n2", Addresses: [{ NetworkID: ingress.ID, Addr: "10.0.0.7/24" }] },
  ],
  nodes: [
    { ID: "n1", Addr: "172.16.5.1" },
    { ID: "n2", Addr: "172.16.5.2" },
  ],
  mesh: {
    Network: ingress,
    services: [
      { ID: "web", Ports: ports.map((p) => ({ Protocol: "tcp", PublishedPort: p, TargetPort: 80 })) },
    ],
    nodes: [
      { ID: "n1", Addr: "172.16.5.1", IngressAddr: "10.0.0.3/24" },
      { ID: "n2", Addr: "172.16.5.2", IngressAddr: "10.0.0.4/24" },
    ],
  },
});

/** The node's netns as commands see it: records what ran; `iptables -C` finds nothing. */
class FakeNetns {
  cmds: string[] = [];
  scripts: string[] = [];
  tables = "table ip nat\ntable ip shoal_mesh_7\ntable ip shoal_mesh_99\n";
  rules: Record<string, string> = {
    "DOCKER-USER":
      "-N DOCKER-USER\n-A DOCKER-USER -i shlold -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT\n",
    FORWARD: [
      "-P FORWARD DROP",
      "-A FORWARD -j DOCKER-USER",
      "-A FORWARD -o shlold -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT",
      "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
      "",
    ].join("\n"),
  };
  run = async (cmd: readonly string[]): Promise<string> => {
    this.cmds.push(cmd.join(" "));
    if (cmd.includes("-C")) throw new Error("Bad rule (does a matching rule exist in that chain?)");
    if (cmd.join(" ") === "nft list tables") return this.tables;
    if (cmd.includes("-S")) return this.rules[cmd.at(-1) ?? ""] ?? "";
    return "";
  };
  load = async (script: string): Promise<void> => {
    this.scripts.push(script);
  };
}

const mesh = (ns: FakeNetns) =>
  new NodeMesh({
    pid: 7,
    run: ns.run,
    loadRuleset: ns.load,
    alive: (pid) => pid === 7,
    logger: silentLogger(),
  });

test("NodeMesh: places the address and rules, loads the table, sweeps a dead daemon's; no work when nothing changed", async () => {
  const ns = new FakeNetns();
  const m = mesh(ns);
  const plan = meshPlan(view([8080]), "n1");
  await m.sync(plan);
  assert.deepEqual(ns.cmds, [
    "ip link set dev shlingressnetwo address 02:42:0a:00:00:03",
    "ip addr replace 10.0.0.3/32 dev shlingressnetwo",
    "sysctl -qw net.ipv4.conf.shlingressnetwo.route_localnet=1",
    "iptables -w 5 -C DOCKER-USER -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -I DOCKER-USER -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -C DOCKER-USER -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -I DOCKER-USER -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    // after the jump to DOCKER-USER, where dockerd's moving that jump leaves them be
    "iptables -w 5 -C FORWARD -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -S FORWARD",
    "iptables -w 5 -I FORWARD 2 -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -C FORWARD -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -S FORWARD",
    "iptables -w 5 -I FORWARD 2 -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "nft list tables",
    "iptables -w 5 -S DOCKER-USER",
    "iptables -w 5 -D DOCKER-USER -i shlold -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT",
    "iptables -w 5 -S FORWARD",
    "iptables -w 5 -D FORWARD -o shlold -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-99 -j ACCEPT",
  ]);
  assert.equal(ns.scripts.length, 2);
  assert.match(ns.scripts[0] ?? "", /^add table ip shoal_mesh_7\n/);
  assert.equal(ns.scripts[1], "add table ip shoal_mesh_99\ndelete table ip shoal_mesh_99\n");
  ns.cmds = [];
  ns.scripts = [];
  await m.sync(meshPlan(view([8080]), "n1"));
  assert.deepEqual([ns.cmds, ns.scripts], [[], []]);
});

test("NodeMesh: leaving the mesh removes the table, the rules and the address", async () => {
  const ns = new FakeNetns();
  const m = mesh(ns);
  await m.sync(meshPlan(view([8080]), "n1"));
  ns.cmds = [];
  ns.scripts = [];
  await m.sync(undefined);
  assert.deepEqual(ns.scripts, ["add table ip shoal_mesh_7\ndelete table ip shoal_mesh_7\n"]);
  assert.deepEqual(ns.cmds, [
    "iptables -w 5 -D DOCKER-USER -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -D DOCKER-USER -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -D FORWARD -o shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "iptables -w 5 -D FORWARD -i shlingressnetwo -m conntrack --ctstate DNAT -m comment --comment shoal-mesh-7 -j ACCEPT",
    "ip addr del 10.0.0.3/32 dev shlingressnetwo",
  ]);
});

class FakeDriver implements LocalNetworkDriver {
  nets = new Map<string, LocalNetwork>();
  async list(): Promise<ExistingNetwork[]> {
    return [...this.nets.values()].map((n) => ({ name: n.name, networkId: n.id }));
  }
  async create(n: LocalNetwork): Promise<void> {
    this.nets.set(n.name, n);
  }
  async remove(name: string): Promise<void> {
    this.nets.delete(name);
  }
  async connect(): Promise<void> {}
}

test("DataPlane: a node without tasks joins ingress for the mesh and leaves it with the last published port", async () => {
  const ns = new FakeNetns();
  const driver = new FakeDriver();
  const plane = new DataPlane({
    driver,
    loadRuleset: async () => undefined,
    logger: silentLogger(),
    nodeId: "n1",
    run: ns.run,
    linkExists: async () => false,
    mesh: mesh(ns),
  });
  await plane.update([] as Task[], view([8080]));
  assert.deepEqual([...driver.nets.keys()], ["shoal-ingressnetwo"]);
  assert.match(ns.scripts[0] ?? "", /tcp dport 8080 dnat ip to 10\.0\.0\.7:80/);
  // the VXLAN device carries the remote task and node 2's own ingress address
  assert.ok(
    ns.cmds.includes("ip link add shv4096 type vxlan id 4096 dstport 4789 local 172.16.5.1 nolearning proxy"),
  );
  assert.ok(ns.cmds.includes("ip neigh replace 10.0.0.7 lladdr 02:42:0a:00:00:07 dev shv4096 nud permanent"));
  assert.ok(ns.cmds.includes("ip neigh replace 10.0.0.4 lladdr 02:42:0a:00:00:04 dev shv4096 nud permanent"));
  await plane.update([], { ...view([]), mesh: undefined });
  assert.deepEqual([...driver.nets.keys()], []);
  assert.equal(ns.scripts.at(-1), "add table ip shoal_mesh_7\ndelete table ip shoal_mesh_7\n");
  plane.stop();
});
