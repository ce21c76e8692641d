/**
 * A small simulation: the pure orchestrator, scheduler and reaper cores applied in rounds against
 * an in-memory cluster with pretend agents, random node failures and task crashes, then run to a
 * fixpoint. (A test may import two loops; the loops themselves never import each other.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { SeededIds } from "../../base/index.ts";
import { makeNode, makeService } from "../common/fixtures.ts";
import { stateOf } from "../common/index.ts";
import { schedule } from "../scheduler/index.ts";
import { type Decisions, reapTasks, reconcileReplicated } from "./index.ts";

/** xorshift32: the simulation's own seeded randomness. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

class Cluster {
  nodes = new Map<string, Node>();
  tasks = new Map<string, SwarmTask>();
  services = new Map<string, SwarmService>();
  now = Date.UTC(2026, 0, 1);
  readonly ids = new SeededIds(42);

  /** Writes lost to races, as a controller that writes each decision on its own may see them. */
  dropRate = 0;
  random: () => number = () => 1;

  apply(d: Pick<Decisions, "create" | "update" | "delete">): number {
    const keep = () => this.random() >= this.dropRate;
    for (const t of d.create) if (keep()) this.tasks.set(t.ID, t);
    for (const t of d.update) if (this.tasks.has(t.ID) && keep()) this.tasks.set(t.ID, t);
    for (const id of d.delete) if (keep()) this.tasks.delete(id);
    return d.create.length + d.update.length + d.delete.length;
  }

  setNodeState(id: string, state: "ready" | "down"): void {
    const n = this.nodes.get(id) as Node;
    this.nodes.set(id, { ...n, Status: { ...n.Status, State: state } });
  }

  /** Orchestrate, allocate, schedule, run agents, reap: one round. Returns how many writes it made. */
  round(random: () => number, crashRate: number): number {
    let writes = 0;
    const byService = new Map<string, SwarmTask[]>();
    for (const t of this.tasks.values())
      byService.set(t.ServiceID ?? "", [...(byService.get(t.ServiceID ?? "") ?? []), t]);
    for (const service of this.services.values()) {
      const tasks = byService.get(service.ID) ?? [];
      writes += this.apply(
        reconcileReplicated({ service, tasks, nodes: this.nodes, now: this.now, ids: this.ids }),
      );
    }
    for (const t of this.tasks.values()) {
      if (t.Status?.State === "new")
        this.tasks.set(t.ID, { ...t, Status: { ...t.Status, State: "pending" } });
    }
    const placed = schedule({
      nodes: [...this.nodes.values()],
      tasks: [...this.tasks.values()],
      now: this.now,
    });
    writes += this.apply({ create: [], update: placed.updates, delete: [] });
    for (const t of this.tasks.values()) writes += this.agent(t, random, crashRate);
    writes += this.apply({
      create: [],
      update: [],
      delete: reapTasks({ tasks: [...this.tasks.values()], services: this.services }),
    });
    this.now += 1000;
    return writes;
  }

  /** A pretend agent: tasks on reachable nodes move straight to their next resting state. */
  private agent(t: SwarmTask, random: () => number, crashRate: number): number {
    const node = t.NodeID ? this.nodes.get(t.NodeID) : undefined;
    if (node?.Status?.State !== "ready") return 0;
    const state = stateOf(t);
    const set = (State: "running" | "ready" | "shutdown" | "failed") => {
      this.tasks.set(t.ID, {
        ...t,
        Status: { ...t.Status, State, Timestamp: new Date(this.now).toISOString() },
      });
      return 1;
    };
    if (state > 512) return 0;
    if (t.DesiredState === "shutdown" || t.DesiredState === "remove") return set("shutdown");
    if (state === 512) return random() < crashRate ? set("failed") : 0;
    if (t.DesiredState === "ready") return state < 384 ? set("ready") : 0;
    return set("running");
  }
}

function converged(c: Cluster, replicas: number): string | undefined {
  const running = new Map<string, number[]>();
  for (const t of c.tasks.values()) {
    if (t.DesiredState !== "running" || t.Status?.State !== "running") continue;
    if (c.nodes.get(t.NodeID ?? "")?.Status?.State !== "ready")
      return `task ${t.ID} runs on a node that is not ready`;
    running.set(t.ServiceID ?? "", [...(running.get(t.ServiceID ?? "") ?? []), t.Slot ?? 0]);
  }
  for (const s of c.services.values()) {
    const slots = (running.get(s.ID) ?? []).sort((a, b) => a - b);
    const want = Array.from({ length: replicas }, (_, i) => i + 1);
    if (slots.join() !== want.join()) return `${s.ID} runs slots [${slots.join()}]`;
  }
  for (const t of c.tasks.values()) {
    if (t.DesiredState === "running" && t.Status?.State !== "running") return `task ${t.ID} not running yet`;
  }
  return undefined;
}

describe("simulation: replicated services converge under node failures", () => {
  for (const [seed, dropRate] of [
    [1, 0],
    [2, 0],
    [3, 0.1],
  ] as const) {
    it(`100 services × 10 replicas on 50 nodes (seed ${seed}, ${dropRate * 100}% of writes lost)`, () => {
      const random = rng(seed);
      const c = new Cluster();
      c.random = random;
      for (let i = 0; i < 50; i++) c.nodes.set(`node${i}`, makeNode(`node${i}`, { nanoCPUs: 4e9 }));
      for (let s = 0; s < 100; s++) {
        const template = { ContainerSpec: { Image: "x" }, Resources: { Reservations: { NanoCPUs: 1e8 } } };
        c.services.set(`svc${s}`, makeService(`svc${s}`, { replicas: 10, template }));
      }
      // Chaos: nodes fail and come back, tasks crash.
      for (let r = 0; r < 60; r++) {
        const id = `node${Math.floor(random() * 50)}`;
        const down = [...c.nodes.values()].filter((n) => n.Status?.State === "down").length;
        c.dropRate = dropRate;
        if (random() < 0.3 && down < 10) c.setNodeState(id, "down");
        else if (random() < 0.3) c.setNodeState(id, "ready");
        c.round(random, 0.002);
      }
      // Calm: no lost writes, no failures; run until nothing changes any more.
      c.dropRate = 0;
      let rounds = 0;
      while (rounds < 300 && (c.round(random, 0) > 0 || converged(c, 10) !== undefined)) rounds++;
      assert.equal(converged(c, 10), undefined);
      // Nothing over-committed: 0.1 CPU per task, 4 CPUs per node.
      const perNode = new Map<string, number>();
      for (const t of c.tasks.values()) {
        if (stateOf(t) >= 192 && stateOf(t) <= 512)
          perNode.set(t.NodeID ?? "", (perNode.get(t.NodeID ?? "") ?? 0) + 1);
      }
      for (const [node, n] of perNode) assert.ok(n <= 40, `${node} holds ${n} tasks`);
    });
  }
});
