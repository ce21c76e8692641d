/**
 * Property tests: random sequences of network, service and task changes (with small pools so that
 * subnets and addresses run out and get reused), an allocation pass after each. After every pass:
 * nothing is handed out twice; the state rebuilt from the store equals the state the pass ended
 * with (what is allocated lives in the store, nowhere else); and once a service is deleted or a task
 * stopped, their resources are handed out again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Cluster, NetworkedTask, Task } from "../../api/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import type { WriteTx } from "../../store/types.ts";
import { makeNode } from "../common/fixtures.ts";
import { commitPlan } from "./commit.ts";
import { readSnapshot } from "./controller.ts";
import { planPass } from "./pass.ts";
import { rebuildState } from "./rebuild.ts";
import { allocatorConfig, type Cursors, PROTOCOLS } from "./state.ts";
import { duplicates, ingressPort, makeIngress, makeNetService, makeNetwork, makeNewTask } from "./testing.ts";

type Op =
  | { kind: "network"; subnet: number | null }
  | { kind: "service"; nets: number[]; ports: number[]; dnsrr: boolean; update: number | null }
  | { kind: "task"; service: number; count: number }
  | { kind: "run"; task: number; node: number }
  | { kind: "stop"; task: number }
  | { kind: "deleteService"; service: number }
  | { kind: "removeNetwork"; network: number }
  | { kind: "reap"; task: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("network" as const), subnet: fc.option(fc.integer({ min: 0, max: 5 })) }),
  fc.record({
    kind: fc.constant("service" as const),
    nets: fc.array(fc.nat(6), { maxLength: 3 }),
    ports: fc.array(fc.constantFrom(0, 0, 8080, 8081), { maxLength: 3 }),
    dnsrr: fc.boolean(),
    update: fc.option(fc.nat(8)),
  }),
  fc.record({
    kind: fc.constant("task" as const),
    service: fc.nat(8),
    count: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant("run" as const), task: fc.nat(40), node: fc.nat(2) }),
  fc.record({ kind: fc.constant("stop" as const), task: fc.nat(40) }),
  fc.record({ kind: fc.constant("deleteService" as const), service: fc.nat(8) }),
  fc.record({ kind: fc.constant("removeNetwork" as const), network: fc.nat(6) }),
  fc.record({ kind: fc.constant("reap" as const), task: fc.nat(40) }),
);

const pick = <T>(items: readonly T[], i: number): T | undefined =>
  items.length ? items[i % items.length] : undefined;

function apply(tx: WriteTx, o: Op, seq: number): void {
  const networks = tx.list("networks").filter((n) => !n.Spec.Ingress && !n.PendingDelete);
  const services = tx.list("services");
  const tasks = tx.list("tasks") as NetworkedTask[];
  switch (o.kind) {
    case "network":
      tx.create(
        "networks",
        makeNetwork(
          `net${seq}`,
          o.subnet === null ? {} : { IPAMOptions: { Configs: [{ Subnet: `10.0.${o.subnet * 16}.0/28` }] } },
          `2026-01-01T00:00:${String(seq % 60).padStart(2, "0")}Z`,
        ),
      );
      return;
    case "service": {
      const nets = [...new Set(o.nets.map((i) => pick(networks, i)?.ID).filter((x): x is string => !!x))];
      const spec = makeNetService(`svc${seq}`, {
        networks: nets,
        ports: o.ports.map((p, i) => ingressPort(80 + i, p)),
        mode: o.dnsrr ? "dnsrr" : "vip",
      });
      const target = o.update === null ? undefined : pick(services, o.update);
      if (target) tx.update("services", { ...target, Spec: { ...spec.Spec, Name: target.Spec?.Name ?? "" } });
      else tx.create("services", spec);
      return;
    }
    case "task": {
      const s = pick(services, o.service);
      for (let i = 0; s && i < o.count; i++) tx.create("tasks", makeNewTask(`t${seq}-${i}`, s) as Task);
      return;
    }
    case "run": {
      const t = pick(
        tasks.filter((x) => x.Status?.State === "pending"),
        o.task,
      );
      if (t) tx.update("tasks", { ...t, NodeID: `n${o.node}`, Status: { State: "running" } } as Task);
      return;
    }
    case "stop": {
      const t = pick(
        tasks.filter((x) => x.Status?.State !== "shutdown"),
        o.task,
      );
      if (t) tx.update("tasks", { ...t, DesiredState: "shutdown", Status: { State: "shutdown" } } as Task);
      return;
    }
    case "deleteService": {
      const s = pick(services, o.service);
      if (!s) return;
      tx.delete("services", s.ID);
      for (const t of tasks)
        if (t.ServiceID === s.ID) tx.update("tasks", { ...t, DesiredState: "remove" } as Task);
      return;
    }
    case "removeNetwork": {
      const n = pick(networks, o.network);
      if (n && !services.some((s) => (s.Spec?.TaskTemplate?.Networks ?? []).some((a) => a.Target === n.ID))) {
        tx.update("networks", { ...n, PendingDelete: true });
      }
      return;
    }
    case "reap": {
      const t = pick(
        tasks.filter((x) => x.Status?.State === "shutdown"),
        o.task,
      );
      if (t) tx.delete("tasks", t.ID);
    }
  }
}

function table(state: ReturnType<typeof rebuildState>): unknown {
  return {
    addresses: [...state.addressTable()].sort(),
    vnis: state.vnis.entries(),
    ports: PROTOCOLS.map((p) => state.portSpace(p).entries()),
  };
}

async function pass(store: MemoryStore, cursors: Cursors): Promise<Cursors> {
  const snap = readSnapshot(store);
  const config = allocatorConfig(snap.pool, snap.subnetSize);
  const state = rebuildState(snap, config, cursors);
  const plan = planPass(snap, state, "2026-01-01T00:00:00Z");
  await commitPlan(store, snap, plan);
  const after = readSnapshot(store);
  assert.deepEqual(duplicates(after), []);
  const rebuilt = rebuildState(after, config);
  assert.deepEqual(rebuilt.conflicts, []);
  assert.deepEqual(table(rebuilt), table(state), "rebuilt from the store = the pass's state");
  return state.saveCursors();
}

test("no resource is handed out twice; the store holds exactly what the allocator holds", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const store = new MemoryStore();
      await store.update((tx) => {
        tx.create("clusters", { ID: "c", DefaultAddrPool: ["10.0.0.0/24"], SubnetSize: 28 } as Cluster);
        tx.create("networks", makeIngress());
        for (const n of [0, 1, 2]) tx.create("nodes", makeNode(`n${n}`));
      });
      let cursors: Cursors = new Map();
      for (const [seq, o] of ops.entries()) {
        await store.update((tx) => apply(tx, o, seq));
        cursors = await pass(store, cursors);
      }
      // Quiescent: one more pass changes nothing.
      const snap = readSnapshot(store);
      const plan = planPass(
        snap,
        rebuildState(snap, allocatorConfig(snap.pool, snap.subnetSize), cursors),
        "x",
      );
      assert.equal(
        plan.services.size + plan.tasks.size + plan.nodes.size + plan.networks.size,
        0,
        plan.problems.join("; "),
      );
    }),
    { numRuns: 60 },
  );
});

test("two allocators racing from one snapshot never hand anything out twice", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { minLength: 1, maxLength: 30 }),
      fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
      async (ops, order) => {
        const store = new MemoryStore();
        await store.update((tx) => {
          tx.create("clusters", { ID: "c", DefaultAddrPool: ["10.0.0.0/24"], SubnetSize: 28 } as Cluster);
          tx.create("networks", makeIngress());
          for (const n of [0, 1]) tx.create("nodes", makeNode(`n${n}`));
        });
        for (const [seq, o] of ops.entries()) {
          await store.update((tx) => apply(tx, o, seq));
          const snap = readSnapshot(store);
          const config = allocatorConfig(snap.pool, snap.subnetSize);
          // Different cursors: the two would pick different free IDs where they can.
          const a = planPass(snap, rebuildState(snap, config), "a");
          const b = planPass(
            snap,
            rebuildState(
              snap,
              config,
              new Map([
                ["vni", 5000],
                ["port/tcp", 31000],
              ]),
            ),
            "b",
          );
          const [first, second] = order[seq] ? [a, b] : [b, a];
          await commitPlan(store, snap, first);
          await commitPlan(store, snap, second).catch((err: Error) =>
            assert.match(String(err.cause), /changed under this pass/),
          );
          assert.deepEqual(duplicates(readSnapshot(store)), []);
        }
      },
    ),
    { numRuns: 40 },
  );
});

test("released resources are handed out again: ports and addresses of a deleted service", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 12 }), async (n) => {
      const store = new MemoryStore();
      await store.update((tx) => {
        tx.create("clusters", { ID: "c", DefaultAddrPool: ["10.0.0.0/24"], SubnetSize: 28 } as Cluster);
        tx.create("networks", makeIngress());
      });
      let cursors: Cursors = new Map();
      // 13 addresses on a /28 ingress (14 hosts minus the gateway): fill it, free it, fill it again.
      for (let round = 0; round < 2; round++) {
        await store.update((tx) => {
          for (let i = 0; i < n; i++)
            tx.create("services", makeNetService(`r${round}s${i}`, { ports: [ingressPort(80)] }));
        });
        cursors = await pass(store, cursors);
        const allocated = readSnapshot(store).services.filter((s) => s.Endpoint?.VirtualIPs?.length);
        assert.equal(allocated.length, n, `round ${round}: all ${n} services allocated`);
        await store.update((tx) => {
          for (const s of tx.list("services")) tx.delete("services", s.ID);
        });
        cursors = await pass(store, cursors);
      }
    }),
    { numRuns: 20 },
  );
});
