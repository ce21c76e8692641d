import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AssignmentMessage, Task } from "../../api/index.ts";
import { SeededIds, silentLogger, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import { diffDependencies, fetchPayloads, neededDependencies } from "./dependencies.ts";
import { Dispatcher } from "./dispatcher.ts";

type State = NonNullable<Task["Status"]>["State"];

const task = (
  id: string,
  nodeId: string,
  state: State,
  secrets: string[] = [],
  configs: string[] = [],
): Task => ({
  ID: id,
  ServiceID: "svc",
  NodeID: nodeId,
  Slot: 1,
  DesiredState: "running",
  Status: { State: state, Timestamp: "2026-01-01T00:00:00Z" },
  Spec: {
    ContainerSpec: {
      Image: "busybox:local",
      Secrets: secrets.map((s) => ({
        SecretID: s,
        SecretName: s,
        File: { Name: s, UID: "0", GID: "0", Mode: 0o444 },
      })),
      Configs: configs.map((c) => ({
        ConfigID: c,
        ConfigName: c,
        File: { Name: `/${c}`, UID: "0", GID: "0", Mode: 0o444 },
      })),
    },
  },
});

const ids = (d: { secrets: Set<string>; configs: Set<string> }) => ({
  secrets: [...d.secrets].sort(),
  configs: [...d.configs].sort(),
});

describe("neededDependencies", () => {
  test("only the node's own tasks in assigned..running count", () => {
    const tasks = [
      task("t1", "n1", "assigned", ["s1"], ["c1"]),
      task("t2", "n1", "running", ["s2"]),
      task("t3", "n1", "pending", ["s3"]),
      task("t4", "n1", "complete", ["s4"]),
      task("t5", "n1", "failed", ["s5"]),
      task("t6", "n2", "running", ["s6"], ["c6"]),
      task("t7", "n1", "shutdown", ["s7"]),
    ];
    assert.deepEqual(ids(neededDependencies(tasks, "n1")), { secrets: ["s1", "s2"], configs: ["c1"] });
    assert.deepEqual(ids(neededDependencies(tasks, "n2")), { secrets: ["s6"], configs: ["c6"] });
    assert.deepEqual(ids(neededDependencies(tasks, "n3")), { secrets: [], configs: [] });
  });

  test("a secret stays while any task still uses it", () => {
    const held = neededDependencies(
      [task("a", "n1", "running", ["s"]), task("b", "n1", "running", ["s"])],
      "n1",
    );
    const after = neededDependencies(
      [task("a", "n1", "failed", ["s"]), task("b", "n1", "running", ["s"])],
      "n1",
    );
    assert.deepEqual(diffDependencies(held, after).removedSecrets, []);
    const gone = neededDependencies(
      [task("a", "n1", "failed", ["s"]), task("b", "n1", "shutdown", ["s"])],
      "n1",
    );
    assert.deepEqual(diffDependencies(held, gone), {
      addedSecrets: [],
      removedSecrets: ["s"],
      addedConfigs: [],
      removedConfigs: [],
    });
  });

  test("fetchPayloads leaves out objects that no longer exist", () => {
    const diff = {
      addedSecrets: ["s1", "gone"],
      removedSecrets: [],
      addedConfigs: ["c1"],
      removedConfigs: [],
    };
    const out = fetchPayloads(diff, {
      secret: (id) => (id === "s1" ? { ID: "s1", Name: "one", Data: "eA==" } : undefined),
      config: (id) => ({ ID: id, Name: id, Data: "eQ==" }),
    });
    assert.deepEqual(
      out.secrets.map((s) => s.ID),
      ["s1"],
    );
    assert.deepEqual(
      out.configs.map((c) => c.ID),
      ["c1"],
    );
  });
});

describe("assignment sessions carry exactly the referenced payloads", () => {
  test("complete set, additions with tasks, removal when the last task ends", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.create("nodes", {
        ID: "n1",
        Spec: { Role: "worker", Availability: "active" },
        Status: { State: "unknown" },
      });
      for (const s of ["s1", "s2", "s3"])
        tx.create("secrets", { ID: s, Spec: { Name: `name-${s}`, Data: "c2VjcmV0" } });
      tx.create("configs", { ID: "c1", Spec: { Name: "conf", Data: "Y29uZg==" } });
      tx.create("tasks", task("t1", "n1", "running", ["s1"], ["c1"]));
      tx.create("tasks", task("t2", "n2", "running", ["s2"]));
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
    assert.deepEqual(first.secrets, [{ ID: "s1", Name: "name-s1", Data: "c2VjcmV0" }]);
    assert.deepEqual(first.configs, [{ ID: "c1", Name: "conf", Data: "Y29uZg==" }]);

    const next = it.next();
    await store.update((tx) => tx.create("tasks", task("t3", "n1", "assigned", ["s3", "s1"])));
    const added = (await next).value as AssignmentMessage;
    assert.deepEqual(
      added.tasks.map((t) => t.ID),
      ["t3"],
    );
    assert.deepEqual(
      added.secrets?.map((s) => s.ID),
      ["s3"],
    );
    assert.equal(added.removedSecrets, undefined);

    const ended = it.next();
    await store.update((tx) => {
      const t1 = tx.get("tasks", "t1")!;
      tx.update("tasks", { ...t1, Status: { ...t1.Status, State: "complete" } });
    });
    const msg = (await ended).value as AssignmentMessage;
    assert.deepEqual(msg.removedConfigs, ["c1"]);
    assert.equal(msg.removedSecrets, undefined, "t3 still uses s1");

    const deleted = it.next();
    await store.update((tx) => tx.delete("tasks", "t3"));
    const last = (await deleted).value as AssignmentMessage;
    assert.deepEqual(last.removed, ["t3"]);
    assert.deepEqual(last.removedSecrets, ["s1", "s3"]);
    assert.equal(JSON.stringify([first, added, msg, last]).includes("s2"), false, "n2's secret never sent");
    session.close();
    await dispatcher.stop();
  });
});
