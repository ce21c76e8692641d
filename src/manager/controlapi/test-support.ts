/**
 * Fixtures the control API tests share: deps over the memory store with a virtual clock and seeded
 * IDs, and builders for the objects other loops would have written (nodes, tasks, networks).
 */
import assert from "node:assert/strict";
import type { Node, ServiceSpec, SwarmTask } from "../../api/index.ts";
import { type ErrorCode, SeededIds, ShoalError, VirtualClock } from "../../base/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import type { CoreDeps } from "./deps.ts";

export function makeDeps(seed = 7): CoreDeps & { store: MemoryStore; clock: VirtualClock } {
  return { store: new MemoryStore(), clock: new VirtualClock(), ids: new SeededIds(seed) };
}

/** The smallest spec the docker CLI sends for `service create --name NAME busybox`. */
export function basicSpec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    Name: name,
    Labels: {},
    TaskTemplate: { ContainerSpec: { Image: "busybox:latest", Init: false }, ForceUpdate: 0 },
    Mode: { Replicated: {} },
    ...extra,
  };
}

export interface NodeOptions {
  hostname?: string;
  role?: "manager" | "worker";
  state?: "ready" | "down" | "unknown" | "disconnected";
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
  reachability?: "reachable" | "unreachable";
}

export async function addNode(deps: CoreDeps, id: string, o: NodeOptions = {}): Promise<Node> {
  const role = o.role ?? "worker";
  const node: Node = {
    ID: id,
    Spec: { Labels: o.labels ?? {}, Role: role, Availability: "active" },
    Description: { Hostname: o.hostname ?? id, Engine: { Labels: o.engineLabels ?? {} } },
    Status: { State: o.state ?? "ready", Addr: "10.0.0.1" },
    ...(role === "manager" ? { ManagerStatus: { Reachability: o.reachability ?? "reachable" } } : {}),
  };
  await deps.store.update((tx) => tx.create("nodes", node));
  return node;
}

/** A task as the orchestrator would have made it from the service's current spec. */
export async function addTask(deps: CoreDeps, id: string, serviceId: string, patch: Partial<SwarmTask> = {}) {
  const service = deps.store.view((tx) => tx.get("services", serviceId));
  const task: SwarmTask = {
    ID: id,
    ServiceID: serviceId,
    Slot: 1,
    Spec: structuredClone(service?.Spec?.TaskTemplate ?? {}),
    ServiceAnnotations: { Name: service?.Spec?.Name ?? "", Labels: service?.Spec?.Labels ?? {} },
    DesiredState: "running",
    Status: { State: "running", Timestamp: "2026-01-01T00:00:00.000Z" },
    ...patch,
  };
  await deps.store.update((tx) => tx.create("tasks", task));
  return task;
}

export async function addNetwork(deps: CoreDeps, id: string, name: string, ingress = false): Promise<void> {
  await deps.store.update((tx) => tx.create("networks", { ID: id, Spec: { Name: name, Ingress: ingress } }));
}

/** Asserts that fn fails with a ShoalError of this code and exact message. */
export async function rejects(fn: () => unknown, code: ErrorCode, message: string): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (err: unknown) => {
      assert.ok(err instanceof ShoalError, `expected a ShoalError, got ${String(err)}`);
      assert.equal(err.message, message);
      assert.equal(err.code, code);
      return true;
    },
  );
}
