import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../../base/index.ts";
import type { MeshPlan, MeshRule } from "./mesh.ts";
import { localNetworkOf } from "./plan.ts";
import { deleteFlows, MeshUdpFlows, staleMeshFlows, staleVipFlows } from "./udp-flows.ts";

const network = localNetworkOf({
  ID: "ingressnetwork0000000000",
  Spec: { Name: "ingress", Ingress: true },
  IPAMOptions: { Configs: [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }] },
});
assert.ok(network);
const plan = (rules: MeshRule[]): MeshPlan => ({
  network,
  keepSource: true,
  address: "10.0.0.3",
  mac: "02:42:0a:00:00:03",
  rules,
});
const del = (port: number, addr: string, target: number) =>
  `conntrack -D -p udp --orig-port-dst ${port} --reply-src ${addr} --reply-port-src ${target}`;

test("staleMeshFlows: a udp backend that left its port, a removed udp port; tcp and kept backends stay", () => {
  const before = plan([
    { protocol: "udp", port: 5353, backends: ["10.0.0.6:53", "10.0.0.7:53"] },
    { protocol: "udp", port: 5354, backends: ["10.0.0.6:54"] },
    { protocol: "tcp", port: 5353, backends: ["10.0.0.8:80"] },
  ]);
  const after = plan([
    { protocol: "udp", port: 5353, backends: ["10.0.0.7:53", "10.0.0.9:53"] },
    { protocol: "tcp", port: 5353, backends: [] },
  ]);
  assert.deepEqual(
    staleMeshFlows(before, after).map((c) => c.join(" ")),
    [del(5353, "10.0.0.6", 53), del(5354, "10.0.0.6", 54)],
  );
  assert.deepEqual(staleMeshFlows(undefined, after), [], "nothing before: nothing to forget");
  assert.equal(staleMeshFlows(before, undefined).length, 3, "leaving the mesh forgets every udp flow");
  // the same address on the same port but a new target port is another flow
  const retarget = plan([{ protocol: "udp", port: 5354, backends: ["10.0.0.6:55"] }]);
  assert.deepEqual(
    staleMeshFlows(before, retarget).map((c) => c.join(" ")),
    [del(5353, "10.0.0.6", 53), del(5353, "10.0.0.7", 53), del(5354, "10.0.0.6", 54)],
  );
});

test("staleVipFlows: flows to the backends a VIP lost", () => {
  const before = [
    { vip: "10.0.1.2", backends: ["10.0.1.5", "10.0.1.6"] },
    { vip: "10.0.1.3", backends: ["10.0.1.7"] },
  ];
  const after = [{ vip: "10.0.1.2", backends: ["10.0.1.6", "10.0.1.8"] }];
  assert.deepEqual(
    staleVipFlows(before, after).map((c) => c.join(" ")),
    [
      "conntrack -D -p udp --orig-dst 10.0.1.2 --reply-src 10.0.1.5",
      "conntrack -D -p udp --orig-dst 10.0.1.3 --reply-src 10.0.1.7",
    ],
  );
  assert.deepEqual(staleVipFlows([], after), []);
  assert.deepEqual(
    staleVipFlows([{ vip: "10.0.1.2", backends: [] }], after).map((c) => c.join(" ")),
    ["conntrack -D -p udp --orig-dst 10.0.1.2"],
    "a VIP that gets backends again: its refused flows go",
  );
});

test("staleMeshFlows: a udp port that gets backends again, or is newly published, loses its refused flows", () => {
  const none = plan([{ protocol: "udp", port: 5353, backends: [] }]);
  const one = plan([
    { protocol: "udp", port: 5353, backends: ["10.0.0.9:53"] },
    { protocol: "udp", port: 5354, backends: ["10.0.0.9:54"] },
    { protocol: "tcp", port: 8080, backends: ["10.0.0.9:80"] },
  ]);
  assert.deepEqual(
    staleMeshFlows(none, one).map((c) => c.join(" ")),
    ["conntrack -D -p udp --orig-port-dst 5353", "conntrack -D -p udp --orig-port-dst 5354"],
  );
  assert.deepEqual(staleMeshFlows(undefined, one), [], "a restarted daemon leaves live flows alone");
  assert.deepEqual(staleMeshFlows(one, one), []);
});

test("MeshUdpFlows: runs the deletions once per change; conntrack finding nothing is no failure", async () => {
  const ran: string[] = [];
  const flows = new MeshUdpFlows(async (cmd) => {
    ran.push(cmd.join(" "));
    throw new Error("0 flow entries have been deleted");
  }, silentLogger());
  const two = plan([{ protocol: "udp", port: 5353, backends: ["10.0.0.6:53", "10.0.0.7:53"] }]);
  const one = plan([{ protocol: "udp", port: 5353, backends: ["10.0.0.7:53"] }]);
  await flows.moved(two);
  await flows.moved(one);
  await flows.moved(one);
  assert.deepEqual(ran, [del(5353, "10.0.0.6", 53)]);
  await flows.moved(undefined);
  assert.deepEqual(ran, [del(5353, "10.0.0.6", 53), del(5353, "10.0.0.7", 53)]);
});

test("deleteFlows: a missing conntrack program is one warning, and the rest are not tried", async () => {
  const ran: string[] = [];
  const warned: string[] = [];
  const logger = { ...silentLogger(), warn: (_o: unknown, msg?: string) => void warned.push(msg ?? "") };
  await deleteFlows(
    [
      ["conntrack", "-D", "a"],
      ["conntrack", "-D", "b"],
    ],
    async (cmd) => {
      ran.push(cmd.join(" "));
      throw new Error("conntrack -D a: spawn conntrack ENOENT");
    },
    logger,
  );
  assert.deepEqual(ran, ["conntrack -D a"]);
  assert.equal(warned.length, 1);
});
