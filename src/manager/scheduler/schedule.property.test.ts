import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Node, SwarmTask, TaskSpec } from "../../api/index.ts";
import { makeNode, makeService, makeTask } from "../common/fixtures.ts";
import { nodeMatches, parseConstraints, reservationsOf } from "../common/index.ts";
import { buildNodeInfos, occupiesNode } from "./nodeinfo.ts";
import { schedule } from "./schedule.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
const GiB = 2 ** 30;

const arbNode = (i: number) =>
  fc
    .record({
      state: fc.constantFrom("ready", "ready", "ready", "down", "unknown"),
      availability: fc.constantFrom("active", "active", "active", "pause", "drain"),
      zone: fc.constantFrom("a", "b", "c", undefined),
      cpus: fc.integer({ min: 1, max: 8 }),
      mem: fc.integer({ min: 1, max: 16 }),
    })
    .map(
      (o): Node =>
        makeNode(`n${i}`, {
          state: o.state as "ready",
          availability: o.availability as "active",
          labels: o.zone ? { zone: o.zone } : {},
          nanoCPUs: o.cpus * 1e9,
          memoryBytes: o.mem * GiB,
        }),
    );

const arbServiceSpec = fc.record({
  cpu: fc.constantFrom(0, 0, 5e8, 1e9, 2e9),
  mem: fc.constantFrom(0, 0, GiB, 4 * GiB),
  zone: fc.constantFrom(undefined, "a", "b"),
  maxReplicas: fc.constantFrom(0, 0, 1, 2),
  spread: fc.boolean(),
  hostPort: fc.constantFrom(undefined, undefined, 8080, 9090),
  replicas: fc.integer({ min: 1, max: 25 }),
});

type ServiceSpecArb = typeof arbServiceSpec extends fc.Arbitrary<infer T> ? T : never;

function templateOf(s: ServiceSpecArb): TaskSpec {
  return {
    ContainerSpec: { Image: "nginx" },
    Resources: { Reservations: { NanoCPUs: s.cpu, MemoryBytes: s.mem } },
    Placement: {
      ...(s.zone ? { Constraints: [`node.labels.zone==${s.zone}`] } : {}),
      ...(s.maxReplicas ? { MaxReplicas: s.maxReplicas } : {}),
      ...(s.spread ? { Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }] } : {}),
    },
  };
}

const arbCluster = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.array(arbServiceSpec, { minLength: 1, maxLength: 4 }))
  .chain(([n, services]) =>
    fc.tuple(fc.tuple(...Array.from({ length: n }, (_, i) => arbNode(i))), fc.constant(services)),
  );

function pendingTasks(services: ServiceSpecArb[]): SwarmTask[] {
  return services.flatMap((s, si) => {
    const svc = makeService(`s${si}`, { template: templateOf(s) });
    return Array.from({ length: s.replicas }, (_, r) =>
      makeTask(`s${si}-t${r}`, svc, { state: "pending", slot: r + 1 }),
    );
  });
}

describe("schedule: properties", () => {
  it("never places on a node failing a filter, over-commits, exceeds MaxReplicas or reuses a host port", () => {
    fc.assert(
      fc.property(arbCluster, ([nodes, services]) => {
        const tasks = pendingTasks(services);
        const d = schedule({ nodes, tasks, now: NOW });
        const byId = new Map(nodes.map((n) => [n.ID, n]));
        for (const t of tasks) {
          const nodeId = d.assignments.get(t.ID);
          if (!nodeId) {
            assert.ok(d.pending.get(t.ID)?.startsWith("no suitable node"), t.ID);
            continue;
          }
          const node = byId.get(nodeId) as Node;
          assert.equal(node.Status?.State, "ready");
          assert.equal(node.Spec?.Availability, "active");
          const constraints = parseConstraints(t.Spec?.Placement?.Constraints ?? []);
          assert.ok(nodeMatches(constraints, node));
        }
        // Apply and recount: no node over its resources, no service over MaxReplicas on a node.
        const after = d.updates.filter(occupiesNode);
        const infos = buildNodeInfos(nodes, after);
        for (const info of infos.values()) {
          assert.ok(info.available.nanoCPUs >= 0, `cpu over-committed on ${info.id}`);
          assert.ok(info.available.memoryBytes >= 0, `memory over-committed on ${info.id}`);
        }
        const ports = new Set<string>();
        for (const t of after) {
          for (const p of t.Endpoint?.Spec?.Ports ?? []) {
            const key = `${t.NodeID}/${p.PublishedPort}`;
            assert.ok(!ports.has(key), `host port ${key} taken twice`);
            ports.add(key);
          }
        }
        services.forEach((s, si) => {
          if (!s.maxReplicas) return;
          for (const info of infos.values())
            assert.ok((info.activeByService.get(`s${si}`) ?? 0) <= s.maxReplicas);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("spreads an unconstrained service evenly (±1) over the eligible nodes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 29 }), { maxLength: 40 }),
        (nodeCount, replicas, otherTasks) => {
          const nodes = Array.from({ length: nodeCount }, (_, i) => makeNode(`n${i}`));
          const other = makeService("other");
          const busy = otherTasks.map((i, k) => makeTask(`o${k}`, other, { node: `n${i % nodeCount}` }));
          const svc = makeService("web");
          const tasks = Array.from({ length: replicas }, (_, r) =>
            makeTask(`w${r}`, svc, { state: "pending", slot: r + 1 }),
          );
          const d = schedule({ nodes, tasks: [...busy, ...tasks], now: NOW });
          assert.equal(d.assignments.size, replicas);
          const counts = new Map<string, number>(nodes.map((n) => [n.ID, 0]));
          for (const n of d.assignments.values()) counts.set(n, (counts.get(n) ?? 0) + 1);
          const values = [...counts.values()];
          assert.ok(Math.max(...values) - Math.min(...values) <= 1, JSON.stringify(values));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("handles thousands of tasks over thousands of nodes quickly", () => {
    const nodes = Array.from({ length: 2000 }, (_, i) =>
      makeNode(`n${i}`, { labels: { zone: `z${i % 5}` } }),
    );
    const tasks: SwarmTask[] = [];
    for (let s = 0; s < 10; s++) {
      const svc = makeService(`s${s}`, {
        template: {
          ContainerSpec: { Image: "x" },
          Resources: { Reservations: { NanoCPUs: 1e8 } },
          Placement: s % 2 ? { Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }] } : {},
        },
      });
      for (let r = 0; r < 1000; r++)
        tasks.push(makeTask(`s${s}-${r}`, svc, { state: "pending", slot: r + 1 }));
    }
    const start = performance.now();
    const d = schedule({ nodes, tasks, now: NOW });
    const ms = performance.now() - start;
    assert.equal(d.assignments.size, 10_000);
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.ok(reservationsOf(tasks[0]?.Spec).nanoCPUs > 0);
  });
});
