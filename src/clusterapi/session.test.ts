import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Agent, type TaskExecutor } from "../agent/index.ts";
import type {
  AssignmentMessage,
  LogLine,
  LogRequest,
  NodeDescription,
  Task,
  TaskLogSource,
} from "../api/index.ts";
import type { Clock } from "../base/index.ts";
import { SeededIds, SystemClock, silentLogger, VirtualClock } from "../base/index.ts";
import type { NodeCredentials, NodeRole } from "../ca/index.ts";
import { Dispatcher } from "../manager/dispatcher/index.ts";
import { MemoryStore } from "../store/memory.ts";
import { ClusterApiClient } from "./client.ts";
import type { NewNode, NodeRegistry } from "./deps.ts";
import { joinCluster } from "./join.ts";
import { RemoteLogClient } from "./log-client.ts";
import { PATHS } from "./protocol.ts";
import { joinedNodeObject } from "./registry.ts";
import { RemoteDispatcherConnector } from "./remote-dispatcher.ts";
import { startTestCluster } from "./testing.ts";

/** The registry the daemon will implement, over the store. */
class StoreRegistry implements NodeRegistry {
  rootCAPem = "";
  constructor(private readonly store: MemoryStore) {}
  async createNode(n: NewNode): Promise<void> {
    const root = this.rootCAPem;
    await this.store.update((tx) => tx.create("nodes", joinedNodeObject(n, new Date().toISOString(), root)));
  }
  async roleOf(nodeId: string): Promise<NodeRole | undefined> {
    return this.store.view((tx) => tx.get("nodes", nodeId))?.Spec?.Role as NodeRole | undefined;
  }
  async certificateIssued(): Promise<void> {}
}

const assigned = (id: string, nodeId: string): Task => ({
  ID: id,
  ServiceID: "svc",
  NodeID: nodeId,
  DesiredState: "running",
  Status: { State: "assigned" },
  Spec: { ContainerSpec: { Image: "busybox:local" } },
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(dispatcherClock: Clock = new SystemClock(), logSource?: TaskLogSource) {
  const store = new MemoryStore();
  const dispatcher = new Dispatcher({
    store,
    clock: dispatcherClock,
    ids: new SeededIds(9),
    logger: silentLogger(),
  });
  const registry = new StoreRegistry(store);
  const cluster = await startTestCluster({ registry, dispatcher });
  registry.rootCAPem = cluster.root.certPem;
  cleanups.push(
    () => dispatcher.stop(),
    () => cluster.stop(),
  );
  const worker = await joinCluster({
    addr: cluster.addr,
    token: cluster.tokens.worker,
    clock: new SystemClock(),
  });
  const connector = new RemoteDispatcherConnector({
    addr: cluster.addr,
    credentials: () => worker.credentials,
    logSource,
    logger: silentLogger(),
  });
  return { store, dispatcher, cluster, worker, connector };
}

async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a session over the network gets the complete set, then increments; status reaches the store", async () => {
  const { store, worker, connector } = await setup();
  const nodeId = worker.nodeId;
  await store.update((tx) => tx.create("tasks", assigned("t1", nodeId)));
  const session = await connector.openSession(nodeId, { Hostname: "w1" });
  cleanups.push(() => session.close());
  const node = store.view((tx) => tx.get("nodes", nodeId));
  assert.equal(node?.Status?.State, "ready");
  assert.equal(node?.Description?.Hostname, "w1");
  assert.equal(session.info.heartbeatPeriodMs, 5000);
  const it = session.assignments()[Symbol.asyncIterator]();
  const first = (await it.next()).value as AssignmentMessage;
  assert.equal(first.kind, "complete");
  assert.deepEqual(
    first.tasks.map((t) => t.ID),
    ["t1"],
  );
  await store.update((tx) => tx.create("tasks", assigned("t2", nodeId)));
  const inc = (await it.next()).value as AssignmentMessage;
  assert.equal(inc.kind, "incremental");
  assert.deepEqual(
    inc.tasks.map((t) => t.ID),
    ["t2"],
  );
  await session.updateTaskStatus([{ taskId: "t1", status: { State: "running", Message: "started" } }]);
  await until(() => store.view((tx) => tx.get("tasks", "t1"))?.Status?.State === "running", "t1 running");
  assert.equal(await session.heartbeat(), 5000);
});

test("the agent runs over the network exactly as in process", async () => {
  const { store, worker, connector } = await setup();
  const nodeId = worker.nodeId;
  await store.update((tx) => tx.create("tasks", assigned("t1", nodeId)));
  const clock = new SystemClock();
  const executor: TaskExecutor & { report?: Agent["reportStatus"] } = {
    describeNode: async (): Promise<NodeDescription> => ({ Hostname: "remote" }),
    assign: async (tasks) => {
      for (const t of tasks) {
        if (t.Status?.State === "assigned") executor.report?.({ taskId: t.ID, status: { State: "running" } });
      }
    },
  };
  const agent = new Agent({ nodeId, connector, executor, clock, logger: silentLogger() });
  executor.report = agent.reportStatus;
  const ac = new AbortController();
  const running = agent.run(ac.signal);
  cleanups.push(async () => {
    ac.abort();
    await running;
  });
  await until(() => store.view((tx) => tx.get("tasks", "t1"))?.Status?.State === "running", "t1 running");
  await store.update((tx) => tx.create("tasks", assigned("t2", nodeId)));
  await until(() => store.view((tx) => tx.get("tasks", "t2"))?.Status?.State === "running", "t2 running");
});

test("a node that stops heartbeating is marked down; its session must register again", async () => {
  const clock = new VirtualClock(Date.now());
  const { store, worker, connector } = await setup(clock);
  const session = await connector.openSession(worker.nodeId, {});
  cleanups.push(() => session.close());
  clock.advance(14_999);
  assert.equal(store.view((tx) => tx.get("nodes", worker.nodeId))?.Status?.State, "ready");
  clock.advance(1);
  await until(
    () => store.view((tx) => tx.get("nodes", worker.nodeId))?.Status?.State === "down",
    "node down",
  );
  assert.equal(store.view((tx) => tx.get("nodes", worker.nodeId))?.Status?.Message, "heartbeat failure");
  await assert.rejects(session.heartbeat(), /register again/);
});

test("a node can only use its own session", async () => {
  const { cluster, worker, connector } = await setup();
  const session = await connector.openSession(worker.nodeId, {});
  cleanups.push(() => session.close());
  await assert.rejects(connector.openSession("someoneelse", {}), /holds the certificate of node/);
  const intruder = await cluster.mint("intruder", "worker");
  const client = new ClusterApiClient(cluster.addr, { ...asTls(intruder), servername: "swarm-manager" });
  cleanups.push(() => client.close());
  await assert.rejects(
    client.call(PATHS.heartbeat, { sessionId: session.info.sessionId }),
    /session belongs to another node/,
  );
  await assert.rejects(
    client.call(PATHS.heartbeat, { sessionId: "nope" }),
    /session not found; register again/,
  );
});

const asTls = (c: NodeCredentials) => ({ rootCAPem: c.rootCAPem, certPem: c.certPem, keyPem: c.keyPem });

/** Lines for every requested task; with follow, one more line every 5 ms until cancelled. */
class FakeLogSource implements TaskLogSource {
  cancelled = 0;
  async *logs(req: LogRequest, signal: AbortSignal): AsyncIterable<LogLine> {
    const line = (taskId: string, n: number): LogLine => ({
      taskId,
      stream: "stdout",
      timestamp: `2026-01-01T00:00:0${n}.000000000Z`,
      line: Buffer.from(`line ${n} of ${taskId}\n`),
    });
    for (const id of req.taskIds) for (let n = 1; n <= 3; n++) yield line(id, n);
    if (!req.follow) return;
    try {
      for (let n = 4; !signal.aborted; n++) {
        await new Promise((r) => setTimeout(r, 5));
        yield line(req.taskIds[0] ?? "", n % 10);
      }
    } finally {
      this.cancelled++;
    }
  }
}

const take = async (lines: AsyncIterable<LogLine>, n: number): Promise<LogLine[]> => {
  const out: LogLine[] = [];
  for await (const l of lines) {
    out.push(l);
    if (out.length === n) break;
  }
  return out;
};

test("log lines stream from the agent to the manager, and stop when the manager stops asking", async () => {
  const source = new FakeLogSource();
  const { cluster, worker, connector } = await setup(new SystemClock(), source);
  const session = await connector.openSession(worker.nodeId, {});
  cleanups.push(() => session.close());
  const req: LogRequest = { taskIds: ["t1", "t2"], follow: false, stdout: true, stderr: true };
  const all = await take(cluster.logs.subscribe(worker.nodeId, req, new AbortController().signal), 100);
  assert.equal(all.length, 6);
  assert.equal(all[0]?.line.toString(), "line 1 of t1\n");
  assert.equal(all[5]?.taskId, "t2");
  const ac = new AbortController();
  const followed = await take(cluster.logs.subscribe(worker.nodeId, { ...req, follow: true }, ac.signal), 8);
  assert.equal(followed.length, 8);
  await until(() => source.cancelled === 1, "the node's log source to be cancelled");
  const manager = await cluster.mint("m2", "manager");
  const relay = new RemoteLogClient(cluster.addr, () => manager);
  const relayed = await take(relay.logs(worker.nodeId, req, new AbortController().signal), 100);
  assert.equal(relayed.length, 6);
  await assert.rejects(take(cluster.logs.subscribe("absent", req, ac.signal), 1), /not connected/);
});

test("when the manager goes away the assignment stream fails, so the agent registers again", async () => {
  const { cluster, worker, connector } = await setup();
  const session = await connector.openSession(worker.nodeId, {});
  cleanups.push(() => session.close());
  const it = session.assignments()[Symbol.asyncIterator]();
  assert.equal(((await it.next()).value as AssignmentMessage).kind, "complete");
  await cluster.stop();
  await assert.rejects(it.next(), /session/);
  await assert.rejects(session.heartbeat(), /unreachable|closed|timed out/);
});

test("a node cannot answer another node's log subscription", async () => {
  const { cluster, worker, connector } = await setup(new SystemClock(), new FakeLogSource());
  const session = await connector.openSession(worker.nodeId, {});
  cleanups.push(() => session.close());
  const hub = cluster.logs;
  const ac = new AbortController();
  cleanups.push(() => ac.abort());
  let subscriptionId = "";
  const original = hub.publisher.bind(hub);
  hub.publisher = (id, nodeId, cancel) => {
    subscriptionId = id;
    return original(id, nodeId, cancel);
  };
  const req: LogRequest = { taskIds: ["t1"], follow: true, stdout: true, stderr: true };
  const lines = hub.subscribe(worker.nodeId, req, ac.signal)[Symbol.asyncIterator]();
  await lines.next(); // the subscription is live while this iterator is open
  cleanups.push(async () => void (await lines.return?.()));
  const intruder = await cluster.mint("intruder", "worker");
  const client = new ClusterApiClient(cluster.addr, { ...asTls(intruder), servername: "swarm-manager" });
  cleanups.push(() => client.close());
  const { stream, reply } = client.openUpload(PATHS.logsPublish);
  stream.end(`${JSON.stringify({ type: "subscription", subscriptionId })}\n`);
  await assert.rejects(reply, /Permission denied: subscription belongs to another node/);
});
