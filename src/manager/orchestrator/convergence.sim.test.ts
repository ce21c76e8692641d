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
import { groupBy, type ServiceMode, serviceMode, stateOf } from "../common/index.ts";
import { schedule } from "../scheduler/index.ts";
import {
  type Decisions,
  type ReconcileInput,
  reapTasks,
  reconcileGlobal,
  reconcileGlobalJob,
  reconcileReplicated,
  reconcileReplicatedJob,
} from "./index.ts";

const RECONCILERS: Record<ServiceMode, (input: ReconcileInput) => Decisions> = {
  replicated: reconcileReplicated,
  global: reconcileGlobal,
  "replicated-job": reconcileReplicatedJob,
  "global-job": reconcileGlobalJob,
};

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
    const byService = groupBy(this.tasks.values(), (t) => t.ServiceID ?? "");
    for (const service of this.services.values()) {
      const tasks = byService.get(service.ID) ?? [];
      const reconcile = RECONCILERS[serviceMode(service)];
      writes += this.apply(reconcile({ service, tasks, nodes: this.nodes, now: this.now, ids: this.ids }));
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
    const set = (State: "running" | "ready" | "shutdown" | "failed" | "complete") => {
      this.tasks.set(t.ID, {
        ...t,
        Status: { ...t.Status, State, Timestamp: new Date(this.now).toISOString() },
      });
      return 1;
    };
    if (state > 512) return 0;
    if (t.DesiredState === "shutdown" || t.DesiredState === "remove") return set("shutdown");
    if (state === 512 && random() < crashRate) return set("failed");
    if (state === 512) return t.DesiredState === "complete" ? set("complete") : 0; // jobs finish
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

describe("simulation: global services and jobs converge under node failures", () => {
  it("3 global services, 2 global jobs, 3 replicated jobs on 30 nodes", () => {
    const random = rng(7);
    const c = new Cluster();
    c.random = random;
    for (let i = 0; i < 30; i++) {
      c.nodes.set(`node${i}`, makeNode(`node${i}`, { labels: i % 3 === 0 ? { tier: "edge" } : {} }));
    }
    const edgeOnly = {
      ContainerSpec: { Image: "x" },
      Placement: { Constraints: ["node.labels.tier==edge"] },
    };
    c.services.set("g0", makeService("g0", { mode: "global" }));
    c.services.set("g1", makeService("g1", { mode: "global" }));
    c.services.set("g2", makeService("g2", { mode: "global", template: edgeOnly }));
    c.services.set("gj0", makeService("gj0", { mode: "global-job", jobIteration: 1 }));
    c.services.set("gj1", makeService("gj1", { mode: "global-job", jobIteration: 1, template: edgeOnly }));
    for (let j = 0; j < 3; j++) {
      c.services.set(
        `rj${j}`,
        makeService(`rj${j}`, {
          mode: "replicated-job",
          maxConcurrent: 4,
          totalCompletions: 15,
          jobIteration: 1,
        }),
      );
    }
    for (let r = 0; r < 40; r++) {
      const id = `node${Math.floor(random() * 30)}`;
      if (random() < 0.2) c.setNodeState(id, "down");
      else if (random() < 0.4) c.setNodeState(id, "ready");
      c.round(random, 0.01);
    }
    for (const n of c.nodes.values()) c.setNodeState(n.ID, "ready");
    let rounds = 0;
    // Until a round writes nothing and no replacement is still held for its restart delay.
    const held = () => [...c.tasks.values()].some((t) => t.DesiredState === "ready" && stateOf(t) <= 576);
    while (rounds < 300 && (c.round(random, 0) > 0 || held())) rounds++;
    assert.ok(rounds < 300, "no fixpoint");

    const tasks = [...c.tasks.values()];
    for (const g of ["g0", "g1", "g2"]) {
      for (const n of c.nodes.values()) {
        const wanted = g !== "g2" || n.Spec?.Labels?.tier === "edge";
        const live = tasks.filter(
          (t) => t.ServiceID === g && t.NodeID === n.ID && t.DesiredState === "running",
        );
        assert.equal(live.length, wanted ? 1 : 0, `${g} on ${n.ID}`);
        if (wanted) assert.equal(live[0]?.Status?.State, "running");
      }
    }
    for (const g of ["gj0", "gj1"]) {
      for (const n of c.nodes.values()) {
        const wanted = g !== "gj1" || n.Spec?.Labels?.tier === "edge";
        const done = tasks.filter(
          (t) => t.ServiceID === g && t.NodeID === n.ID && t.Status?.State === "complete",
        );
        assert.equal(done.length > 0, wanted, `${g} on ${n.ID}`);
      }
    }
    for (let j = 0; j < 3; j++) {
      const done = tasks.filter((t) => t.ServiceID === `rj${j}` && t.Status?.State === "complete");
      assert.equal(done.length, 15, `rj${j} completions`);
    }
  });
});
