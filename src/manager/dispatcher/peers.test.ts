import assert from "node:assert/strict";
import { test } from "node:test";
import type { Service, SwarmNetworkObject, Task } from "../../api/index.ts";
import { isBackend, networkPeers, nodeNetworks, touchesNetworks } from "./peers.ts";

const net = (id: string): SwarmNetworkObject => ({ ID: id, Spec: { Name: id } });
const task = (
  id: string,
  node: string,
  service: string,
  state: string,
  desired: string,
  addrs: Record<string, string>,
): Task =>
  ({
    ID: id,
    NodeID: node,
    ServiceID: service,
    Status: { State: state },
    DesiredState: desired,
    NetworksAttachments: Object.entries(addrs).map(([n, a]) => ({ Network: net(n), Addresses: [a] })),
  }) as unknown as Task;

const tasks = [
  task("t1", "me", "s1", "running", "running", { n1: "10.0.1.3/24" }),
  task("t2", "other", "s1", "running", "running", { n1: "10.0.1.4/24", n3: "10.0.3.4/24" }),
  task("t3", "other", "s1", "running", "shutdown", { n1: "10.0.1.5/24" }),
  task("t4", "other", "s1", "starting", "running", { n1: "10.0.1.6/24" }),
  task("t5", "other", "s9", "running", "running", { n9: "10.0.9.6/24" }),
  task("t6", "me", "s5", "shutdown", "shutdown", { n5: "10.0.5.6/24" }),
];
const services = [
  {
    ID: "s1",
    Spec: { Name: "api", TaskTemplate: { Networks: [{ Target: "n1" }] } },
    Endpoint: { VirtualIPs: [{ NetworkID: "n1", Addr: "10.0.1.2/24" }] },
  },
  {
    ID: "s2",
    Spec: { Name: "db", EndpointSpec: { Mode: "dnsrr" }, TaskTemplate: { Networks: [{ Target: "n1" }] } },
  },
  {
    ID: "s9",
    Spec: { Name: "far", TaskTemplate: { Networks: [{ Target: "n9" }] } },
    Endpoint: { VirtualIPs: [{ NetworkID: "n9", Addr: "10.0.9.2/24" }] },
  },
] as unknown as Service[];

test("nodeNetworks: networks of the node's tasks that are not past running", () => {
  assert.deepEqual([...nodeNetworks(tasks, "me")], ["n1"]);
});

test("networkPeers: tasks that may be on the node's networks, serving or not; services there with aliases", () => {
  const withAlias = services.map((sv) =>
    sv.ID === "s2"
      ? { ...sv, Spec: { ...sv.Spec, TaskTemplate: { Networks: [{ Target: "n1", Aliases: ["db-alias"] }] } } }
      : sv,
  );
  const view = networkPeers(tasks, withAlias, new Set(["n1"]));
  assert.deepEqual(view.tasks, [
    { ID: "t1", ServiceID: "s1", NodeID: "me", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.3/24" }] },
    { ID: "t2", ServiceID: "s1", NodeID: "other", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.4/24" }] },
    // draining (told to stop, still running) and starting (not yet healthy): reachable, no backend
    {
      ID: "t3",
      ServiceID: "s1",
      NodeID: "other",
      Addresses: [{ NetworkID: "n1", Addr: "10.0.1.5/24" }],
      Serving: false,
    },
    {
      ID: "t4",
      ServiceID: "s1",
      NodeID: "other",
      Addresses: [{ NetworkID: "n1", Addr: "10.0.1.6/24" }],
      Serving: false,
    },
  ]);
  assert.deepEqual(view.services, [
    { ID: "s1", Name: "api", Mode: "vip", VirtualIPs: [{ NetworkID: "n1", Addr: "10.0.1.2/24" }] },
    {
      ID: "s2",
      Name: "db",
      Mode: "dnsrr",
      VirtualIPs: [],
      Aliases: [{ NetworkID: "n1", Alias: "db-alias" }],
    },
  ]);
});

test("touchesNetworks", () => {
  assert.equal(touchesNetworks(tasks[4], new Set(["n1"])), false);
  assert.equal(touchesNetworks(tasks[1], new Set(["n1"])), true);
  assert.equal(touchesNetworks(undefined, new Set(["n1"])), false);
});

test("isBackend: running (healthy, for a task with a healthcheck) and not told to stop", () => {
  const at = (state: string, desired: string) => isBackend(task("t", "n", "s", state, desired, {}));
  assert.equal(at("running", "running"), true);
  assert.equal(at("running", "complete"), true, "a job's task runs until it exits");
  // the agent reports STARTING until the healthcheck passes: not a backend before it is healthy
  assert.equal(at("starting", "running"), false);
  assert.equal(at("ready", "running"), false);
  // told to stop: out at once; its node drains it before the stop signal
  assert.equal(at("running", "shutdown"), false);
  assert.equal(at("running", "remove"), false);
  assert.equal(at("complete", "running"), false);
  assert.equal(at("failed", "running"), false);
  assert.equal(at("shutdown", "shutdown"), false);
});
