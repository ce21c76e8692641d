import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import type { NetworkCreateRequest } from "./network-spec.ts";
import {
  createNetwork,
  ESP_MISSING,
  getNetwork,
  hasNetwork,
  listNetworks,
  type NetworkDeps,
  newIngressNetwork,
  removeNetwork,
} from "./networks.ts";
import { createService } from "./services.ts";
import { addTask, basicSpec, makeDeps, rejects } from "./test-support.ts";

const overlay = (name: string, extra: Partial<NetworkCreateRequest> = {}): NetworkCreateRequest => ({
  Name: name,
  Driver: "overlay",
  IPAM: { Driver: "default", Options: {}, Config: [] },
  Options: {},
  Labels: {},
  ...extra,
});

function deps(esp = false): NetworkDeps & ReturnType<typeof makeDeps> {
  return { ...makeDeps(), espSupported: async () => esp };
}

describe("network create", () => {
  test("stores SwarmKit's spec; inspect shows moby's shape before allocation", async () => {
    const d = deps();
    const { ID } = await createNetwork(
      d,
      overlay("backend", {
        Attachable: true,
        Labels: { k: "v" },
        IPAM: { Driver: "default", Config: [{ Subnet: "10.20.0.0/24", Gateway: "10.20.0.254" }] },
      }),
    );
    const stored = d.store.view((tx) => tx.get("networks", ID));
    assert.deepEqual(stored?.Spec, {
      Name: "backend",
      Labels: { k: "v" },
      DriverConfiguration: { Name: "overlay", Options: {} },
      Scope: "swarm",
      Attachable: true,
      IPAMOptions: {
        Driver: { Name: "default" },
        Configs: [{ Subnet: "10.20.0.0/24", Gateway: "10.20.0.254" }],
      },
    });
    const view = getNetwork(d, "backend");
    assert.equal(view.Id, ID);
    assert.equal(view.Scope, "swarm");
    assert.equal(view.Driver, "overlay");
    assert.deepEqual(view.Labels, { k: "v" });
    assert.ok(hasNetwork(d, ID.slice(0, 5)));
    assert.ok(!hasNetwork(d, "nosuch"));
  });

  test("Swarm's and moby's refusals", async () => {
    const d = deps();
    await createNetwork(d, overlay("a", { IPAM: { Config: [{ Subnet: "10.20.0.0/16" }] } }));
    await rejects(
      () => createNetwork(d, overlay("a")),
      ErrorCode.AlreadyExists,
      "network with name a already exists",
    );
    await rejects(
      () => createNetwork(d, overlay("b", { IPAM: { Config: [{ Subnet: "10.20.5.0/24" }] } })),
      ErrorCode.InvalidArgument,
      "invalid pool request: Pool overlaps with other one on this address space (10.20.5.0/24 overlaps 10.20.0.0/16 of network a)",
    );
    await rejects(
      () =>
        createNetwork(
          d,
          overlay("c", {
            IPAM: { Config: [{ Subnet: "10.30.0.0/24", Gateway: "10.31.0.1", IPRange: "10.30.1.0/24" }] },
          }),
        ),
      ErrorCode.InvalidArgument,
      "invalid network config:\n* invalid ip-range 10.30.1.0/24: parent subnet 10.30.0.0/24 doesn't contain ip-range\n* invalid gateway 10.31.0.1: parent subnet 10.30.0.0/24 doesn't contain this address",
    );
    await rejects(
      () => createNetwork(d, overlay("bridge")),
      ErrorCode.PermissionDenied,
      "bridge is a pre-defined network and cannot be created",
    );
    await rejects(
      () => createNetwork(d, overlay("d", { Driver: "bridge", Scope: "swarm" })),
      ErrorCode.InvalidArgument,
      'network driver "bridge" is not supported for swarm-scoped networks: shoal only supports the overlay driver there',
    );
    await rejects(
      () => createNetwork(d, overlay("e", { Ingress: true, Attachable: true })),
      ErrorCode.InvalidArgument,
      "rpc error: code = InvalidArgument desc = ingress network cannot be attachable",
    );
    await rejects(
      () => createNetwork(d, overlay("f", { Labels: { "com.docker.swarm.predefined": "true" } })),
      ErrorCode.PermissionDenied,
      "rpc error: code = PermissionDenied desc = label com.docker.swarm.predefined is for internally created predefined networks and cannot be applied by users",
    );
    await rejects(
      () => createNetwork(d, overlay("bad name!")),
      ErrorCode.InvalidArgument,
      "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component",
    );
  });

  test("a second ingress network is refused", async () => {
    const d = deps();
    const ingress = newIngressNetwork(d.ids, "2026-01-01T00:00:00Z");
    await d.store.update((tx) => tx.create("networks", ingress));
    await rejects(
      () => createNetwork(d, overlay("ingress2", { Ingress: true })),
      ErrorCode.AlreadyExists,
      `rpc error: code = AlreadyExists desc = ingress network (${ingress.ID}) is already present`,
    );
  });

  test("--opt encrypted: refused without kernel ESP, accepted with it", async () => {
    const without = deps(false);
    await rejects(
      () => createNetwork(without, overlay("sec", { Options: { encrypted: "" } })),
      ErrorCode.FailedPrecondition,
      ESP_MISSING,
    );
    assert.equal(listNetworks(without).length, 0);
    const withEsp = deps(true);
    await createNetwork(withEsp, overlay("sec", { Options: { encrypted: "" } }));
    assert.deepEqual(getNetwork(withEsp, "sec").Options, { encrypted: "" });
  });
});

describe("network list", () => {
  test("filters: name and id substrings, label, driver, scope, type; predefined and pending hidden", async () => {
    const d = deps();
    await createNetwork(d, overlay("backend", { Labels: { tier: "db" } }));
    await createNetwork(d, overlay("frontend"));
    const names = (f: Record<string, string[]>) =>
      listNetworks(d, f)
        .map((n) => n.Name)
        .sort();
    assert.deepEqual(names({}), ["backend", "frontend"]);
    assert.deepEqual(names({ name: ["end"] }), ["backend", "frontend"]);
    assert.deepEqual(names({ name: ["back"] }), ["backend"]);
    assert.deepEqual(names({ label: ["tier=db"] }), ["backend"]);
    assert.deepEqual(names({ driver: ["bridge"] }), []);
    assert.deepEqual(names({ scope: ["local"] }), []);
    assert.deepEqual(names({ scope: ["swarm"], type: ["custom"] }), ["backend", "frontend"]);
    assert.deepEqual(names({ type: ["builtin"] }), []);
  });
});

describe("network remove", () => {
  test("refused while a service uses it; deferred while its tasks terminate; deleted after", async () => {
    const d = deps();
    const { ID } = await createNetwork(d, overlay("backend"));
    const svc = await createService(
      d,
      basicSpec("web", {
        TaskTemplate: { ContainerSpec: { Image: "busybox" }, Networks: [{ Target: "backend" }] },
      }),
    );
    await rejects(
      () => removeNetwork(d, "backend"),
      ErrorCode.FailedPrecondition,
      `rpc error: code = FailedPrecondition desc = network ${ID} is in use by service ${svc.ID}`,
    );
    await addTask(d, "t1", svc.ID, { Spec: { Networks: [{ Target: ID }] } });
    await d.store.update((tx) => tx.delete("services", svc.ID));
    await rejects(
      () => removeNetwork(d, "backend"),
      ErrorCode.FailedPrecondition,
      `rpc error: code = FailedPrecondition desc = network ${ID} is in use by task t1`,
    );
    await d.store.update((tx) => {
      const t = tx.get("tasks", "t1");
      if (t) tx.update("tasks", { ...t, DesiredState: "shutdown" });
    });
    await removeNetwork(d, "backend");
    assert.equal(
      d.store.view((tx) => tx.get("networks", ID))?.PendingDelete,
      true,
      "kept for the terminating task",
    );
    assert.equal(hasNetwork(d, "backend"), false);
    assert.deepEqual(listNetworks(d), []);
    // A new network may take the name at once.
    await createNetwork(d, overlay("backend"));
  });

  test("ingress: refused while a service publishes ingress ports", async () => {
    const d = deps();
    const ingress = newIngressNetwork(d.ids, "2026-01-01T00:00:00Z");
    await d.store.update((tx) => tx.create("networks", ingress));
    const svc = await createService(
      d,
      basicSpec("web", { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }),
    );
    await rejects(
      () => removeNetwork(d, "ingress"),
      ErrorCode.FailedPrecondition,
      `rpc error: code = FailedPrecondition desc = ingress network cannot be removed because service ${svc.ID} depends on it`,
    );
    await d.store.update((tx) => tx.delete("services", svc.ID));
    await removeNetwork(d, "ingress");
    assert.equal(hasNetwork(d, "ingress"), false);
  });
});
