import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  AssignmentMessage,
  NetworkedNode,
  NetworkedTask,
  Service,
  SwarmNetworkObject,
  Task,
} from "../../api/index.ts";
import { SeededIds, silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import { makeNode } from "../common/fixtures.ts";
import { Dispatcher } from "./dispatcher.ts";
import { meshPorts, meshView } from "./mesh.ts";

const ingress: SwarmNetworkObject = {
  ID: "ingress0000",
  Version: { Index: 7 },
  Spec: { Name: "ingress", Ingress: true },
  IPAMOptions: { Configs: [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }] },
  DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4096" } },
  Allocator: { Generation: 3 },
};
const backend: SwarmNetworkObject = { ...ingress, ID: "backend0000", Spec: { Name: "backend" } };

const service = (id: string, ports: NonNullable<Service["Endpoint"]>["Ports"]): Service => ({
  ID: id,
  Spec: { Name: id },
  Endpoint: { Ports: ports ?? [] },
});
const node = (id: string, addr: string, ingressAddr?: string): NetworkedNode => ({
  ...makeNode(id, { addr }),
  ...(ingressAddr ? { Attachments: [{ Network: ingress, Addresses: [ingressAddr] }] } : {}),
});

test("meshPorts: allocated ingress ports only, protocol defaulting to tcp", () => {
  const s = service("web", [
    { TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress", Protocol: "tcp" },
    { TargetPort: 53, PublishedPort: 30000, Protocol: "udp" },
    { TargetPort: 81, PublishedPort: 8081, PublishMode: "host" },
    { TargetPort: 82, PublishMode: "ingress" },
  ]);
  assert.deepEqual(meshPorts(s), [
    { Protocol: "tcp", PublishedPort: 8080, TargetPort: 80 },
    { Protocol: "udp", PublishedPort: 30000, TargetPort: 53 },
  ]);
});

test("meshView: none without an ingress-published service or without ingress", () => {
  const hostOnly = service("h", [{ TargetPort: 80, PublishedPort: 80, PublishMode: "host" }]);
  const nodes = [node("n1", "172.16.0.1", "10.0.0.2/24")];
  assert.equal(meshView([ingress], [hostOnly], nodes), undefined);
  const web = service("web", [{ TargetPort: 80, PublishedPort: 8080 }]);
  assert.equal(meshView([backend], [web], nodes), undefined);
  assert.equal(meshView([{ ...ingress, PendingDelete: true }], [web], nodes), undefined);
});

test("meshView: the ingress network without its guard, the published services, every node's ingress address", () => {
  const web = service("web", [{ TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress" }]);
  const view = meshView(
    [backend, ingress],
    [web, service("plain", [])],
    [node("n2", "172.16.0.2", "10.0.0.3/24"), node("n1", "172.16.0.1", "10.0.0.2/24"), node("n3", "x")],
  );
  assert.deepEqual(view, {
    Network: {
      ID: ingress.ID,
      Spec: ingress.Spec,
      IPAMOptions: ingress.IPAMOptions,
      DriverState: ingress.DriverState,
    },
    services: [{ ID: "web", Ports: [{ Protocol: "tcp", PublishedPort: 8080, TargetPort: 80 }] }],
    nodes: [
      { ID: "n1", Addr: "172.16.0.1", IngressAddr: "10.0.0.2/24" },
      { ID: "n2", Addr: "172.16.0.2", IngressAddr: "10.0.0.3/24" },
    ],
  });
});

test("a node with no task gets the mesh view, ingress tasks of other nodes, and loses it with the last published port", async () => {
  const store = new MemoryStore();
  const web = service("web", [{ TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress" }]);
  const t1: NetworkedTask = {
    ID: "t1",
    ServiceID: "web",
    NodeID: "n2",
    DesiredState: "running",
    Status: { State: "running" },
    NetworksAttachments: [{ Network: ingress, Addresses: ["10.0.0.5/24"] }],
  };
  await store.update((tx) => {
    tx.create("networks", ingress);
    tx.create("nodes", node("n1", "172.16.0.1", "10.0.0.2/24"));
    tx.create("nodes", node("n2", "172.16.0.2", "10.0.0.3/24"));
    tx.create("services", web);
    tx.create("tasks", t1 as unknown as Task);
  });
  const dispatcher = new Dispatcher({
    store,
    clock: new VirtualClock(),
    ids: new SeededIds(1),
    logger: silentLogger(),
  });
  const session = await dispatcher.openSession("n1", { Hostname: "h1" });
  const it = session.assignments()[Symbol.asyncIterator]();
  const first = (await it.next()).value as AssignmentMessage;
  assert.deepEqual(first.tasks, []);
  assert.deepEqual(first.peers?.mesh?.services, [
    { ID: "web", Ports: [{ Protocol: "tcp", PublishedPort: 8080, TargetPort: 80 }] },
  ]);
  assert.deepEqual(first.peers?.tasks, [
    { ID: "t1", ServiceID: "web", NodeID: "n2", Addresses: [{ NetworkID: ingress.ID, Addr: "10.0.0.5/24" }] },
  ]);
  assert.deepEqual(
    first.peers?.mesh?.nodes.map((n) => n.IngressAddr),
    ["10.0.0.2/24", "10.0.0.3/24"],
  );
  // the task is told to stop: it leaves the mesh's backends at once, reachable while it drains
  const next = it.next();
  await store.update((tx) => tx.update("tasks", { ...tx.get("tasks", "t1")!, DesiredState: "shutdown" }));
  assert.deepEqual(
    ((await next).value as AssignmentMessage).peers?.tasks.map((t) => [t.ID, t.Serving]),
    [["t1", false]],
  );
  const last = it.next();
  await store.update((tx) =>
    tx.update("services", { ...tx.get("services", "web")!, Endpoint: { Ports: [] } }),
  );
  const gone = (await last).value as AssignmentMessage;
  assert.equal(gone.peers?.mesh, undefined);
  session.close();
  await dispatcher.stop();
});
