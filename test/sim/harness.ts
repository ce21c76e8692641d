/**
 * One simulated node: the whole manager (allocator, orchestrators, scheduler, dispatcher) with a
 * real agent and the real Executor over a FakeEngine, on the memory store and the system clock.
 */
import { FakeEngine } from "../../src/agent/executor/fake.ts";
import { Executor } from "../../src/agent/executor/index.ts";
import { Agent } from "../../src/agent/index.ts";
import type { Task } from "../../src/api/index.ts";
import { MemoryLogger, RandomIds, SystemClock } from "../../src/base/index.ts";
import { ControlApiImpl } from "../../src/manager/controlapi/index.ts";
import { Manager, soleLeadership } from "../../src/manager/index.ts";
import { MemoryStore } from "../../src/store/memory.ts";

export const SIM_NODE = "node1aaaaaaaaaaaaaaaaaaaaa";

/** Polls a synchronous probe until it returns something truthy; reports the last value on timeout. */
export async function until<T>(what: string, probe: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    const v = probe();
    if (v) return v;
    last = v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export class SimNode {
  readonly store = new MemoryStore();
  readonly clock = new SystemClock();
  readonly ids = new RandomIds();
  readonly logger = new MemoryLogger();
  readonly control = new ControlApiImpl({
    store: this.store,
    clock: this.clock,
    ids: this.ids,
    logger: this.logger,
  });
  readonly engine = new FakeEngine({
    clock: this.clock,
    description: { Hostname: "sim1", Resources: { NanoCPUs: 4e9, MemoryBytes: 8 * 2 ** 30 } },
  });
  private readonly ac = new AbortController();
  private running: Promise<unknown> | undefined;

  async start(): Promise<void> {
    const { store, clock, ids, logger } = this;
    await store.update((tx) => {
      tx.create("clusters", {
        ID: "cluster1",
        Spec: { Name: "default", Orchestration: { TaskHistoryRetentionLimit: 5 } },
      });
      tx.create("nodes", {
        ID: SIM_NODE,
        Spec: { Role: "manager", Availability: "active" },
        Status: { State: "unknown" },
        Description: { Hostname: "sim1" },
      });
    });
    const manager = new Manager({ store, clock, ids, logger, leadership: soleLeadership });
    let report: Agent["reportStatus"] = () => undefined;
    const executor = new Executor({
      engine: this.engine,
      nodeId: SIM_NODE,
      clock,
      logger,
      onStatus: (taskId, status) => report({ taskId, status }),
    });
    const agent = new Agent({ nodeId: SIM_NODE, connector: manager.dispatcher, executor, clock, logger });
    report = agent.reportStatus;
    this.running = Promise.all([manager.run(this.ac.signal), agent.run(this.ac.signal)]);
  }

  /** Stops everything; prints the last log lines when a test failed. */
  async stop(tailLines = 50): Promise<void> {
    this.ac.abort();
    await this.running;
    if (process.exitCode)
      for (const l of this.logger.lines.slice(-tailLines)) console.error(JSON.stringify(l));
  }

  tasksOf(serviceId: string): Task[] {
    return this.store.view((tx) => tx.lookup("tasks", "service", serviceId));
  }
}
