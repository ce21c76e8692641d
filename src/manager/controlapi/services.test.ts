import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { updateService } from "./service-update.ts";
import { registryAuthOf } from "./service-view.ts";
import { createService, getService, listServices, removeService } from "./services.ts";
import { addNetwork, addNode, addTask, basicSpec, makeDeps, rejects } from "./test-support.ts";

const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`;

describe("createService", () => {
  test("stores the spec as Swarm returns it: defaults of the protobuf round trip", async () => {
    const deps = makeDeps();
    const spec = basicSpec("web", {
      TaskTemplate: { ContainerSpec: { Image: "busybox:latest" }, RestartPolicy: {} },
      UpdateConfig: { Parallelism: 2 },
      EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] },
    });
    const { ID } = await createService(deps, spec);
    const s = getService(deps, ID);
    assert.deepEqual(s.Spec?.Mode, { Replicated: { Replicas: 1 } });
    assert.equal(s.Spec?.TaskTemplate?.Runtime, "container");
    assert.equal(s.Spec?.TaskTemplate?.ContainerSpec?.Isolation, "default");
    assert.deepEqual(s.Spec?.TaskTemplate?.RestartPolicy, { Condition: "any", MaxAttempts: 0 });
    assert.deepEqual(s.Spec?.UpdateConfig, {
      Parallelism: 2,
      FailureAction: "pause",
      MaxFailureRatio: 0,
      Order: "stop-first",
    });
    assert.deepEqual(s.Spec?.EndpointSpec, {
      Mode: "vip",
      Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress" }],
    });
    // Until the allocator writes Endpoint, the explicitly published ports show there.
    assert.deepEqual(s.Endpoint?.Ports, s.Spec?.EndpointSpec?.Ports);
    assert.equal(s.UpdateStatus, undefined);
    assert.equal(s.Version?.Index, deps.store.revision());
  });

  test("insertDefaults fills SwarmKit's service defaults on read", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"));
    const spec = getService(deps, ID, { insertDefaults: true }).Spec;
    assert.equal(spec?.TaskTemplate?.ContainerSpec?.StopGracePeriod, 10_000_000_000);
    assert.deepEqual(spec?.TaskTemplate?.RestartPolicy, {
      Condition: "any",
      Delay: 5_000_000_000,
      MaxAttempts: 0,
    });
    const update = {
      Parallelism: 1,
      FailureAction: "pause",
      Monitor: 5_000_000_000,
      MaxFailureRatio: 0,
      Order: "stop-first",
    };
    assert.deepEqual(spec?.UpdateConfig, update);
    assert.deepEqual(spec?.RollbackConfig, update);
    assert.deepEqual(spec?.TaskTemplate?.Placement, {});
    assert.equal(getService(deps, ID).Spec?.UpdateConfig, undefined);
  });

  test("a name already taken (in any case) is AlreadyExists with Swarm's text", async () => {
    const deps = makeDeps();
    await createService(deps, basicSpec("web"));
    const msg = rpc("AlreadyExists", "name conflicts with an existing object: service Web already exists");
    await rejects(() => createService(deps, basicSpec("Web")), ErrorCode.AlreadyExists, msg);
  });

  test("an empty name gets a random adjective_name", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec(""));
    assert.match(getService(deps, ID).Spec?.Name ?? "", /^[a-z]+_[a-z]+$/);
  });

  test("the registry auth header is stored with the spec but never shown", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"), "c2VjcmV0");
    const stored = deps.store.view((tx) => tx.get("services", ID));
    assert.equal(registryAuthOf(stored?.Spec), "c2VjcmV0");
    assert.doesNotMatch(JSON.stringify(getService(deps, ID)), /c2VjcmV0|PullOptions/);
    assert.doesNotMatch(JSON.stringify(listServices(deps)), /c2VjcmV0|PullOptions/);
  });

  test("network names become IDs", async () => {
    const deps = makeDeps();
    await addNetwork(deps, "netid00000000000000000001", "app_front");
    const spec = basicSpec("web");
    spec.TaskTemplate = { ...spec.TaskTemplate, Networks: [{ Target: "app_front", Aliases: ["web"] }] };
    const { ID } = await createService(deps, spec);
    assert.deepEqual(getService(deps, ID).Spec?.TaskTemplate?.Networks, [
      { Target: "netid00000000000000000001", Aliases: ["web"] },
    ]);
  });

  test("an ingress port taken by another service is refused", async () => {
    const deps = makeDeps();
    const ports = { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } };
    const { ID } = await createService(deps, basicSpec("one", ports));
    const msg = rpc(
      "InvalidArgument",
      `port '8080' is already in use by service 'one' (${ID}) as an ingress port`,
    );
    await rejects(() => createService(deps, basicSpec("two", ports)), ErrorCode.InvalidArgument, msg);
  });

  test("jobs start with a job status", async () => {
    const deps = makeDeps();
    const { ID } = await createService(
      deps,
      basicSpec("job", { Mode: { ReplicatedJob: { MaxConcurrent: 2 } } }),
    );
    const s = getService(deps, ID);
    assert.deepEqual(s.Spec?.Mode, { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 2 } });
    assert.deepEqual(s.JobStatus?.JobIteration, { Index: 0 });
  });
});

describe("getService resolution", () => {
  test("full ID, exact name, unique prefix; ambiguous and missing", async () => {
    const deps = makeDeps();
    const a = await createService(deps, basicSpec("alpha"));
    await createService(deps, basicSpec("beta"));
    assert.equal(getService(deps, a.ID).ID, a.ID);
    assert.equal(getService(deps, "alpha").ID, a.ID);
    assert.equal(getService(deps, a.ID.slice(0, 6)).ID, a.ID);
    await rejects(() => getService(deps, "nosuch"), ErrorCode.NotFound, "service nosuch not found");
    await rejects(() => getService(deps, ""), ErrorCode.NotFound, "service  not found");
  });

  test("a prefix shared by several services is ambiguous (400)", async () => {
    const deps = makeDeps();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await createService(deps, basicSpec(`s${i}`))).ID);
    const first = ids[0]?.[0] ?? "";
    const n = ids.filter((id) => id.startsWith(first)).length;
    assert.ok(n > 1, "need two IDs with the same first character");
    await rejects(
      () => getService(deps, first),
      ErrorCode.InvalidArgument,
      `service ${first} is ambiguous (${n} matches found)`,
    );
  });
});

describe("listServices", () => {
  test("filters: name and id prefixes, labels, mode; unknown keys refused", async () => {
    const deps = makeDeps();
    const web = await createService(
      deps,
      basicSpec("app_web", { Labels: { "com.docker.stack.namespace": "app" } }),
    );
    await createService(
      deps,
      basicSpec("app_db", { Labels: { "com.docker.stack.namespace": "app", tier: "db" } }),
    );
    await createService(deps, basicSpec("other", { Mode: { Global: {} } }));
    const names = (f: Record<string, string[]>) =>
      listServices(deps, f)
        .map((s) => s.Spec?.Name)
        .sort();
    assert.deepEqual(names({ name: ["app_"] }), ["app_db", "app_web"]);
    assert.deepEqual(names({ id: [web.ID.slice(0, 8)] }), ["app_web"]);
    assert.deepEqual(names({ label: ["com.docker.stack.namespace"] }), ["app_db", "app_web"]);
    assert.deepEqual(names({ label: ["com.docker.stack.namespace=app", "tier=db"] }), ["app_db"]);
    assert.deepEqual(names({ mode: ["global"] }), ["other"]);
    assert.deepEqual(names({ mode: ["replicated", "global"] }), ["app_db", "app_web", "other"]);
    assert.deepEqual(names({ runtime: ["plugin"] }), []);
    await rejects(
      () => listServices(deps, { color: ["red"] }),
      ErrorCode.InvalidArgument,
      "invalid filter 'color'",
    );
  });

  test("ServiceStatus: replicated, global and job counts", async () => {
    const deps = makeDeps();
    const rep = await createService(deps, basicSpec("rep", { Mode: { Replicated: { Replicas: 3 } } }));
    const glob = await createService(deps, basicSpec("glob", { Mode: { Global: {} } }));
    const job = await createService(
      deps,
      basicSpec("job", { Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 4 } } }),
    );
    await addTask(deps, "t1", rep.ID);
    await addTask(deps, "t2", rep.ID, { Status: { State: "starting" } });
    await addTask(deps, "t3", glob.ID, { Slot: 0, NodeID: "n1" });
    await addTask(deps, "t4", glob.ID, {
      Slot: 0,
      NodeID: "n2",
      DesiredState: "shutdown",
      Status: { State: "shutdown" },
    });
    await addTask(deps, "t5", job.ID, {
      JobIteration: { Index: 0 },
      DesiredState: "complete",
      Status: { State: "complete" },
    });
    await addTask(deps, "t6", job.ID, { JobIteration: { Index: 0 }, DesiredState: "complete" });
    const statuses = Object.fromEntries(
      listServices(deps, {}, { status: true }).map((s) => [s.Spec?.Name, s.ServiceStatus]),
    );
    assert.deepEqual(statuses.rep, { RunningTasks: 1, DesiredTasks: 3, CompletedTasks: 0 });
    assert.deepEqual(statuses.glob, { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 0 });
    assert.deepEqual(statuses.job, { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 1 });
    assert.equal(listServices(deps)[0]?.ServiceStatus, undefined);
  });
});

describe("updateService", () => {
  test("replaces the spec, keeps the old one as PreviousSpec, resets UpdateStatus", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"));
    await deps.store.update((tx) => {
      const s = tx.get("services", ID);
      if (s)
        tx.update("services", { ...s, UpdateStatus: { State: "completed", Message: "update completed" } });
    });
    const before = getService(deps, ID);
    const next = structuredClone(before.Spec ?? {});
    next.Mode = { Replicated: { Replicas: 5 } };
    assert.deepEqual(await updateService(deps, "web", before.Version?.Index ?? 0, next), { Warnings: null });
    const after = getService(deps, ID) as typeof before & { PreviousSpec?: unknown };
    assert.deepEqual(after.Spec?.Mode, { Replicated: { Replicas: 5 } });
    assert.deepEqual(after.PreviousSpec, before.Spec);
    assert.equal(after.UpdateStatus, undefined);
    assert.ok((after.Version?.Index ?? 0) > (before.Version?.Index ?? 0));
  });

  test("a stale version is a sequence conflict", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"));
    const s = getService(deps, ID);
    await updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {});
    await rejects(
      () => updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {}),
      ErrorCode.SequenceConflict,
      "update out of sequence",
    );
  });

  test("rollback=previous swaps PreviousSpec back in; without one it is refused", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"));
    const v1 = getService(deps, ID);
    await rejects(
      () => updateService(deps, ID, v1.Version?.Index ?? 0, v1.Spec ?? {}, { rollback: "previous" }),
      ErrorCode.FailedPrecondition,
      rpc("FailedPrecondition", `service ${ID} does not have a previous spec`),
    );
    const changed = structuredClone(v1.Spec ?? {});
    if (changed.TaskTemplate?.ContainerSpec) changed.TaskTemplate.ContainerSpec.Image = "nginx:latest";
    await updateService(deps, ID, v1.Version?.Index ?? 0, changed);
    const v2 = getService(deps, ID);
    await updateService(deps, ID, v2.Version?.Index ?? 0, v2.Spec ?? {}, { rollback: "previous" });
    const v3 = getService(deps, ID);
    assert.equal(v3.Spec?.TaskTemplate?.ContainerSpec?.Image, "busybox:latest");
    assert.equal(v3.UpdateStatus?.State, "rollback_started");
    assert.equal(v3.UpdateStatus?.Message, "manually requested rollback");
  });

  test("mode changes and renames are refused", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"));
    const s = getService(deps, ID);
    const v = s.Version?.Index ?? 0;
    await rejects(
      () => updateService(deps, ID, v, { ...s.Spec, Mode: { Global: {} } }),
      ErrorCode.NotImplemented,
      rpc("Unimplemented", "service mode change is not allowed"),
    );
    await rejects(
      () => updateService(deps, ID, v, { ...s.Spec, Name: "other" }),
      ErrorCode.NotImplemented,
      rpc("Unimplemented", "renaming services is not supported"),
    );
  });

  test("registry auth is kept from the spec unless a new header comes", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("web"), "first");
    const stored = () => registryAuthOf(deps.store.view((tx) => tx.get("services", ID))?.Spec);
    let s = getService(deps, ID);
    await updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {});
    assert.equal(stored(), "first");
    s = getService(deps, ID);
    await updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {}, { registryAuth: "second" });
    assert.equal(stored(), "second");
    s = getService(deps, ID);
    await updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {}, { registryAuthFrom: "previous-spec" });
    assert.equal(stored(), "first");
  });

  test("updating a job starts a new iteration", async () => {
    const deps = makeDeps();
    const { ID } = await createService(deps, basicSpec("job", { Mode: { GlobalJob: {} } }));
    const s = getService(deps, ID);
    await updateService(deps, ID, s.Version?.Index ?? 0, s.Spec ?? {});
    assert.deepEqual(getService(deps, ID).JobStatus?.JobIteration, { Index: 1 });
  });
});

describe("removeService", () => {
  test("deletes the service and marks its tasks for removal", async () => {
    const deps = makeDeps();
    await addNode(deps, "n1");
    const { ID } = await createService(deps, basicSpec("web"));
    await addTask(deps, "t1", ID, { NodeID: "n1" });
    await removeService(deps, "web");
    await rejects(() => getService(deps, ID), ErrorCode.NotFound, `service ${ID} not found`);
    assert.equal(deps.store.view((tx) => tx.get("tasks", "t1"))?.DesiredState, "remove");
    await rejects(() => removeService(deps, "web"), ErrorCode.NotFound, "service web not found");
  });
});

test("nulls the Go client sends are dropped, as the protobuf round trip drops them", async () => {
  const deps = makeDeps();
  const spec = basicSpec("web");
  const c = spec.TaskTemplate?.ContainerSpec as Record<string, unknown>;
  c.Privileges = { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false };
  c.Mounts = null;
  spec.Labels = null as unknown as Record<string, string>;
  const { ID } = await createService(deps, spec);
  const stored = getService(deps, ID).Spec;
  assert.deepEqual(stored?.Labels, {});
  assert.deepEqual(stored?.TaskTemplate?.ContainerSpec?.Privileges, { NoNewPrivileges: false });
  assert.equal("Mounts" in (stored?.TaskTemplate?.ContainerSpec ?? {}), false);
});
