import { test } from "node:test";
import type { DispatcherConnector, NodeDescription, Task } from "../api/index.ts";
import { SeededIds, SystemClock, silentLogger } from "../base/index.ts";
import { Dispatcher } from "../manager/dispatcher/index.ts";
import { MemoryStore } from "../store/memory.ts";
import { Agent, type TaskExecutor } from "./index.ts";

/** Runs every assigned task straight to running and remembers what it was given. */
class InstantExecutor implements TaskExecutor {
  sets: string[][] = [];
  report: (r: { taskId: string; status: NonNullable<Task["Status"]> }) => void = () => undefined;
  async describeNode(): Promise<NodeDescription> {
    return { Hostname: "fake" };
  }
  async assign(tasks: Task[]): Promise<void> {
    this.sets.push(tasks.map((t) => t.ID).sort());
    for (const t of tasks) {
      if (t.Status?.State === "assigned")
        this.report({ taskId: t.ID, status: { State: "running", Message: "started" } });
    }
  }
}

async function until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the agent runs its node's tasks and their status reaches the store", async () => {
  const store = new MemoryStore();
  const clock = new SystemClock();
  await store.update((tx) => {
    tx.create("nodes", {
      ID: "n1",
      Spec: { Role: "manager", Availability: "active" },
      Status: { State: "unknown" },
    });
    tx.create("tasks", {
      ID: "t1",
      NodeID: "n1",
      ServiceID: "s",
      DesiredState: "running",
      Status: { State: "assigned" },
      Spec: {},
    });
  });
  const dispatcher = new Dispatcher({ store, clock, ids: new SeededIds(1), logger: silentLogger() });
  const executor = new InstantExecutor();
  const agent = new Agent({
    nodeId: "n1",
    connector: dispatcher as DispatcherConnector,
    executor,
    clock,
    logger: silentLogger(),
  });
  executor.report = agent.reportStatus;
  const ac = new AbortController();
  const running = agent.run(ac.signal);
  try {
    await until(() => store.view((tx) => tx.get("tasks", "t1"))?.Status?.State === "running", "t1 running");
    await store.update((tx) =>
      tx.create("tasks", {
        ID: "t2",
        NodeID: "n1",
        ServiceID: "s",
        DesiredState: "running",
        Status: { State: "assigned" },
        Spec: {},
      }),
    );
    await until(() => store.view((tx) => tx.get("tasks", "t2"))?.Status?.State === "running", "t2 running");
    await store.update((tx) => tx.delete("tasks", "t1"));
    await until(() => executor.sets.at(-1)?.join() === "t2", "t1 removed from the executor's set");
  } finally {
    ac.abort();
    await running;
    await dispatcher.stop();
  }
});
