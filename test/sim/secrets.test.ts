/**
 * Secrets and configs through the whole manager and two real agents with real Executors over fake
 * engines: each node's assignment stream carries exactly the payloads its own tasks reference, the
 * executor writes them to the (in-memory) task filesystem, and everything goes away with the task.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeEngine } from "../../src/agent/executor/fake.ts";
import { Executor } from "../../src/agent/executor/index.ts";
import { Agent } from "../../src/agent/index.ts";
import { MemoryTaskFiles } from "../../src/agent/secrets/index.ts";
import type { AssignmentMessage, DispatcherConnector, ServiceSpec } from "../../src/api/index.ts";
import { MemoryLogger, RandomIds, SystemClock } from "../../src/base/index.ts";
import { ControlApiImpl } from "../../src/manager/controlapi/index.ts";
import { Manager, soleLeadership } from "../../src/manager/index.ts";
import { MemoryStore } from "../../src/store/memory.ts";

const NODES = ["node1aaaaaaaaaaaaaaaaaaaaa", "node2aaaaaaaaaaaaaaaaaaaaa"] as const;
const b64 = (s: string) => Buffer.from(s).toString("base64");

async function until<T>(what: string, probe: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Records every assignment message a node receives. */
function recording(inner: DispatcherConnector, log: Map<string, AssignmentMessage[]>): DispatcherConnector {
  return {
    async openSession(nodeId, description) {
      const session = await inner.openSession(nodeId, description);
      const assignments = session.assignments.bind(session);
      return Object.assign(Object.create(session) as typeof session, {
        info: session.info,
        async *assignments() {
          for await (const msg of assignments()) {
            log.set(nodeId, [...(log.get(nodeId) ?? []), structuredClone(msg)]);
            yield msg;
          }
        },
      });
    },
  };
}

describe("secrets and configs reach only the nodes whose tasks use them", () => {
  const store = new MemoryStore();
  const clock = new SystemClock();
  const ids = new RandomIds();
  const logger = new MemoryLogger();
  const control = new ControlApiImpl({ store, clock, ids, logger });
  const messages = new Map<string, AssignmentMessage[]>();
  const files = new Map(NODES.map((n) => [n, new MemoryTaskFiles()]));
  const ac = new AbortController();
  let running: Promise<unknown> | undefined;

  before(async () => {
    await store.update((tx) => {
      tx.create("clusters", {
        ID: "c1",
        Spec: { Name: "default", Orchestration: { TaskHistoryRetentionLimit: 5 } },
      });
      for (const [i, id] of NODES.entries()) {
        tx.create("nodes", {
          ID: id,
          Spec: { Role: i === 0 ? "manager" : "worker", Availability: "active" },
          Status: { State: "unknown" },
          Description: { Hostname: `sim${i + 1}` },
        });
      }
    });
    const manager = new Manager({ store, clock, ids, logger, leadership: soleLeadership });
    const connector = recording(manager.dispatcher, messages);
    const runs: Promise<unknown>[] = [manager.run(ac.signal)];
    for (const [i, nodeId] of NODES.entries()) {
      const engine = new FakeEngine({
        clock,
        description: { Hostname: `sim${i + 1}`, Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 2 ** 30 } },
      });
      let report: Agent["reportStatus"] = () => undefined;
      const executor = new Executor({
        engine,
        nodeId,
        clock,
        logger,
        files: files.get(nodeId),
        onStatus: (taskId, status) => report({ taskId, status }),
      });
      const agent = new Agent({ nodeId, connector, executor, clock, logger });
      report = agent.reportStatus;
      runs.push(agent.run(ac.signal));
    }
    running = Promise.all(runs);
  });

  after(async () => {
    ac.abort();
    await running;
    if (process.exitCode) for (const l of logger.lines.slice(-50)) console.error(JSON.stringify(l));
  });

  const ids3 = { a: "", b: "", unused: "", conf: "" };
  const spec = (name: string, host: string, secret: string, secretId: string): ServiceSpec => ({
    Name: name,
    TaskTemplate: {
      ContainerSpec: {
        Image: "busybox:local",
        Args: ["sleep", "1000"],
        Secrets: [
          { SecretID: secretId, SecretName: secret, File: { Name: secret, UID: "0", GID: "0", Mode: 0o444 } },
        ],
        Configs:
          name === "api"
            ? [
                {
                  ConfigID: ids3.conf,
                  ConfigName: "conf",
                  File: { Name: "/app.conf", UID: "0", GID: "0", Mode: 0o444 },
                },
              ]
            : [],
      },
      Placement: { Constraints: [`node.hostname==${host}`] },
    },
    Mode: { Replicated: { Replicas: 2 } },
  });

  const sent = (nodeId: string) => {
    const all = messages.get(nodeId) ?? [];
    return {
      secrets: all.flatMap((m) => m.secrets ?? []).map((s) => s.ID),
      removedSecrets: all.flatMap((m) => m.removedSecrets ?? []),
      configs: all.flatMap((m) => m.configs ?? []).map((c) => c.ID),
      removedConfigs: all.flatMap((m) => m.removedConfigs ?? []),
    };
  };
  const runningTasks = (serviceId: string) =>
    store.view((tx) => tx.lookup("tasks", "service", serviceId)).filter((t) => t.Status?.State === "running");

  test("each node receives exactly its own tasks' payloads", async () => {
    ids3.a = (await control.createSecret({ Name: "a", Data: b64("alpha-secret") })).ID;
    ids3.b = (await control.createSecret({ Name: "b", Data: b64("beta-secret") })).ID;
    ids3.unused = (await control.createSecret({ Name: "unused", Data: b64("nobody") })).ID;
    ids3.conf = (await control.createConfig({ Name: "conf", Data: b64("k=v") })).ID;
    const web = await control.createService(spec("web", "sim1", "a", ids3.a));
    const api = await control.createService(spec("api", "sim2", "b", ids3.b));
    await until(
      "both services running",
      () => runningTasks(web.ID).length === 2 && runningTasks(api.ID).length === 2,
    );
    assert.deepEqual(sent(NODES[0]).secrets, [ids3.a], "node1 got only a, once");
    assert.deepEqual(sent(NODES[1]).secrets, [ids3.b], "node2 got only b");
    assert.deepEqual(sent(NODES[0]).configs, []);
    assert.deepEqual(sent(NODES[1]).configs, [ids3.conf]);
    const all = JSON.stringify([...messages.values()]);
    assert.equal(all.includes(ids3.unused), false, "an unused secret is never sent");
    assert.equal(all.includes(b64("nobody")), false);
    const node1Files = [...files.get(NODES[0])!.tasks.values()].flat();
    assert.equal(node1Files.length, 2);
    assert.ok(node1Files.every((f) => f.data.toString() === "alpha-secret"));
    const node2Files = [...files.get(NODES[1])!.tasks.values()].flat().map((f) => f.data.toString());
    assert.deepEqual(node2Files.sort(), ["beta-secret", "beta-secret", "k=v", "k=v"]);
  });

  test("removing the service removes the payloads from the node and the task files", async () => {
    await control.removeService("web");
    await until("node1 told to forget a", () => sent(NODES[0]).removedSecrets.includes(ids3.a));
    await until("node1's task files gone", () => files.get(NODES[0])!.tasks.size === 0);
    assert.deepEqual(sent(NODES[1]).removedSecrets, [], "node2 still runs api");
    await control.removeService("api");
    await until("node2 forgets b and conf", () => sent(NODES[1]).removedConfigs.includes(ids3.conf));
    assert.deepEqual(sent(NODES[1]).removedSecrets, [ids3.b]);
    await until("node2's task files gone", () => files.get(NODES[1])!.tasks.size === 0);
  });
});
