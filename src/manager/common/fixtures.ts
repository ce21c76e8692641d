/**
 * Builders for nodes, services and tasks in the shapes the manager's loops read, shared by the
 * scheduler's and orchestrators' tests and simulations. Not used by production code.
 */
import type { Node, SwarmService, SwarmTask, TaskSpec } from "../../api/index.ts";

export interface NodeOptions {
  state?: "ready" | "down" | "unknown" | "disconnected";
  availability?: "active" | "pause" | "drain";
  role?: "worker" | "manager";
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
  hostname?: string;
  os?: string;
  arch?: string;
  nanoCPUs?: number;
  memoryBytes?: number;
  plugins?: Array<{ Type: string; Name: string }>;
  addr?: string;
}

export function makeNode(id: string, o: NodeOptions = {}): Node {
  return {
    ID: id,
    Spec: { Role: o.role ?? "worker", Availability: o.availability ?? "active", Labels: o.labels ?? {} },
    Description: {
      Hostname: o.hostname ?? `host-${id}`,
      Platform: { OS: o.os ?? "linux", Architecture: o.arch ?? "x86_64" },
      Resources: { NanoCPUs: o.nanoCPUs ?? 4e9, MemoryBytes: o.memoryBytes ?? 8 * 2 ** 30 },
      Engine: { EngineVersion: "20.10.24", Labels: o.engineLabels ?? {}, Plugins: o.plugins ?? [] },
    },
    Status: { State: o.state ?? "ready", Addr: o.addr ?? "10.0.0.1" },
  };
}

export interface ServiceOptions {
  replicas?: number;
  mode?: "replicated" | "global" | "replicated-job" | "global-job";
  maxConcurrent?: number;
  totalCompletions?: number;
  jobIteration?: number;
  template?: TaskSpec;
  name?: string;
  version?: number;
}

export function makeService(id: string, o: ServiceOptions = {}): SwarmService {
  const mode =
    o.mode === "global"
      ? { Global: {} }
      : o.mode === "replicated-job"
        ? {
            ReplicatedJob: { MaxConcurrent: o.maxConcurrent ?? 1, TotalCompletions: o.totalCompletions ?? 1 },
          }
        : o.mode === "global-job"
          ? { GlobalJob: {} }
          : { Replicated: { Replicas: o.replicas ?? 1 } };
  return {
    ID: id,
    Version: { Index: o.version ?? 1 },
    Spec: {
      Name: o.name ?? id,
      Labels: {},
      TaskTemplate: o.template ?? { ContainerSpec: { Image: "busybox:latest" } },
      Mode: mode,
    },
    ...(o.mode === "replicated-job" || o.mode === "global-job"
      ? { JobStatus: { JobIteration: { Index: o.jobIteration ?? 1 } } }
      : {}),
  };
}

export interface TaskOptions {
  slot?: number;
  node?: string;
  state?: NonNullable<SwarmTask["Status"]>["State"];
  desired?: SwarmTask["DesiredState"];
  spec?: TaskSpec;
  createdAt?: number;
  timestamp?: number;
  jobIteration?: number;
}

/** A task of the service with the service's current template unless `spec` says otherwise. */
export function makeTask(id: string, service: SwarmService, o: TaskOptions = {}): SwarmTask {
  const created = new Date(o.createdAt ?? Date.UTC(2026, 0, 1)).toISOString();
  return {
    ID: id,
    ServiceID: service.ID,
    Slot: o.slot ?? 0,
    ...(o.node ? { NodeID: o.node } : {}),
    Spec: o.spec ?? service.Spec?.TaskTemplate ?? {},
    Status: {
      State: o.state ?? "running",
      Timestamp: o.timestamp !== undefined ? new Date(o.timestamp).toISOString() : created,
      Message: "started",
    },
    DesiredState: o.desired ?? "running",
    CreatedAt: created,
    UpdatedAt: created,
    ...(o.jobIteration !== undefined ? { JobIteration: { Index: o.jobIteration } } : {}),
  };
}
