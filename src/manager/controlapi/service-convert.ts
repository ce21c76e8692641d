/**
 * A requested ServiceSpec → the spec as Swarm stores and returns it. moby converts the Engine API
 * spec to SwarmKit's protobuf and back (`convert/service.go`); that round trip both refuses some
 * values (400, plain messages such as `invalid RestartCondition: "x"`) and fills others in
 * (`Runtime: "container"`, `Isolation: "default"`, `EndpointSpec.Mode: "vip"`, `Protocol: "tcp"`,
 * `PublishMode: "ingress"`, `Replicas: 1`, UpdateConfig `FailureAction: "pause"`, `Order:
 * "stop-first"`, RestartPolicy `Condition: "any"`, `MaxAttempts: 0`). This file is that round trip.
 */
import type { EndpointSpec, ServiceSpec, TaskSpec } from "../../api/index.ts";
import { internal, invalidArgument } from "../../base/index.ts";

type ContainerSpec = NonNullable<TaskSpec["ContainerSpec"]>;
type Mount = NonNullable<ContainerSpec["Mounts"]>[number];
type UpdateConfig = NonNullable<ServiceSpec["UpdateConfig"]>;
type Mode = NonNullable<ServiceSpec["Mode"]>;

const RESTART_CONDITIONS = ["none", "on-failure", "any"];
const FAILURE_ACTIONS = ["pause", "continue", "rollback"];
const UPDATE_ORDERS = ["stop-first", "start-first"];
const MOUNT_TYPES = ["bind", "volume", "tmpfs", "npipe", "cluster"];
const PROPAGATIONS = ["rprivate", "private", "rshared", "shared", "rslave", "slave"];

/** The spec as stored; throws ShoalError with moby's conversion messages. `name` fills an empty Name. */
export function convertServiceSpec(requested: ServiceSpec, name: string): ServiceSpec {
  const spec = dropNulls(structuredClone(requested));
  const out: ServiceSpec = { Name: spec.Name || name, Labels: spec.Labels ?? {} };
  out.TaskTemplate = convertTaskSpec(spec);
  const update = convertUpdateConfig(spec.UpdateConfig);
  if (update) out.UpdateConfig = update;
  const rollback = convertUpdateConfig(spec.RollbackConfig);
  if (rollback) out.RollbackConfig = rollback as ServiceSpec["RollbackConfig"];
  if (spec.EndpointSpec) out.EndpointSpec = convertEndpointSpec(spec.EndpointSpec);
  out.Mode = convertMode(spec.Mode);
  return out;
}

function convertTaskSpec(spec: ServiceSpec): TaskSpec {
  const t = spec.TaskTemplate ?? {};
  const networks = t.Networks?.length ? t.Networks : (spec.Networks ?? []); // API < 1.44 legacy field
  const out: TaskSpec = {};
  const res = t.Resources as (TaskSpec["Resources"] & { SwapBytes?: number | null }) | undefined;
  if (res) {
    if (res.SwapBytes != null && !res.Limits?.MemoryBytes) {
      throw invalidArgument("memory swap provided, but no memory-limit was set");
    }
    out.Resources = res;
  }
  const runtime = t.Runtime ?? "";
  if (runtime === "plugin") throw internal(`runtime type "plugin" only supported in experimental`);
  if (runtime !== "" && runtime !== "container") throw invalidArgument("unsupported runtime");
  if (!t.ContainerSpec) throw invalidArgument("mismatched Runtime and *Spec fields");
  out.ContainerSpec = convertContainerSpec(t.ContainerSpec);
  if (t.RestartPolicy) out.RestartPolicy = convertRestartPolicy(t.RestartPolicy);
  if (t.Placement) out.Placement = convertPlacement(t.Placement);
  if (t.LogDriver) out.LogDriver = t.LogDriver;
  if (networks.length > 0) out.Networks = networks;
  out.ForceUpdate = t.ForceUpdate ?? 0;
  out.Runtime = "container";
  return out;
}

function convertContainerSpec(c: ContainerSpec): ContainerSpec {
  const out: ContainerSpec = { ...c };
  const isolation = (c.Isolation ?? "").toLowerCase();
  out.Isolation = isolation === "process" || isolation === "hyperv" ? isolation : "default";
  for (const cfg of c.Configs ?? []) {
    if (!cfg.Runtime && !cfg.File)
      throw invalidArgument("invalid Config: either File or Runtime should be set");
    if (cfg.Runtime && cfg.File)
      throw invalidArgument("invalid Config: cannot specify both File and Runtime");
  }
  if (c.Mounts) out.Mounts = c.Mounts.map(convertMount);
  return out;
}

function convertMount(m: Mount): Mount {
  const type = (m.Type ?? "").toLowerCase();
  if (type !== "" && !MOUNT_TYPES.includes(type)) throw invalidArgument(`invalid MountType: "${m.Type}"`);
  const out: Mount = { ...m, Type: (type || "bind") as Mount["Type"] };
  delete out.BindOptions;
  if (m.BindOptions) {
    const propagation = (m.BindOptions.Propagation ?? "").toLowerCase();
    if (propagation !== "" && !PROPAGATIONS.includes(propagation)) {
      throw invalidArgument(`invalid MountPropagation: "${m.BindOptions.Propagation}"`);
    }
    if (propagation !== "" || m.BindOptions.NonRecursive) {
      out.BindOptions = { ...m.BindOptions, Propagation: (propagation || "rprivate") as "rprivate" };
    }
  }
  return out;
}

type RestartPolicy = NonNullable<TaskSpec["RestartPolicy"]>;

function convertRestartPolicy(p: RestartPolicy): RestartPolicy {
  const condition = p.Condition ?? "";
  if (condition !== "" && !RESTART_CONDITIONS.includes(condition)) {
    throw invalidArgument(`invalid RestartCondition: "${condition}"`);
  }
  const out: RestartPolicy = { Condition: (condition || "any") as RestartPolicy["Condition"] };
  if (p.Delay !== undefined && p.Delay !== null) out.Delay = p.Delay;
  out.MaxAttempts = p.MaxAttempts ?? 0;
  if (p.Window !== undefined && p.Window !== null) out.Window = p.Window;
  return out;
}

type Placement = NonNullable<TaskSpec["Placement"]>;

function convertPlacement(p: Placement): Placement {
  const out: Placement = { ...p };
  // Only spread preferences exist in SwarmKit; anything else is dropped on the way.
  if (p.Preferences) out.Preferences = p.Preferences.filter((pref) => pref.Spread);
  return out;
}

function convertUpdateConfig(u: UpdateConfig | undefined): UpdateConfig | undefined {
  if (!u) return undefined;
  const action = u.FailureAction ?? "";
  if (action !== "" && !FAILURE_ACTIONS.includes(action)) {
    throw invalidArgument(`unrecognized update failure action ${action}`);
  }
  const order = u.Order ?? "";
  if (order !== "" && !UPDATE_ORDERS.includes(order))
    throw invalidArgument(`unrecognized update order ${order}`);
  const out: UpdateConfig = { Parallelism: u.Parallelism ?? 0 };
  if (u.Delay) out.Delay = u.Delay;
  out.FailureAction = (action || "pause") as UpdateConfig["FailureAction"];
  if (u.Monitor) out.Monitor = u.Monitor;
  out.MaxFailureRatio = u.MaxFailureRatio ?? 0;
  out.Order = (order || "stop-first") as UpdateConfig["Order"];
  return out;
}

function convertEndpointSpec(e: EndpointSpec): EndpointSpec {
  const mode = e.Mode ?? "";
  if (mode !== "" && mode !== "vip" && mode !== "dnsrr")
    throw invalidArgument(`invalid resolution mode: "${mode}"`);
  const out: EndpointSpec = { Mode: mode || "vip" };
  if (e.Ports?.length) {
    // Unknown protocol or publish mode names become SwarmKit's zero values (tcp, ingress).
    out.Ports = e.Ports.map((p) => {
      const protocol = (p.Protocol ?? "").toLowerCase();
      const publish = (p.PublishMode ?? "").toLowerCase();
      return {
        ...(p.Name ? { Name: p.Name } : {}),
        Protocol: protocol === "udp" || protocol === "sctp" ? protocol : "tcp",
        TargetPort: p.TargetPort ?? 0,
        PublishedPort: p.PublishedPort ?? 0,
        PublishMode: publish === "host" ? "host" : "ingress",
      };
    });
  }
  return out;
}

function convertMode(mode: Mode | undefined): Mode {
  const m = mode ?? {};
  const given = [m.Global, m.Replicated, m.ReplicatedJob, m.GlobalJob].filter((x) => x != null).length;
  if (given > 1) throw invalidArgument("must specify only one service mode");
  if (m.Global) return { Global: {} };
  if (m.GlobalJob) return { GlobalJob: {} };
  if (m.ReplicatedJob) {
    const max = m.ReplicatedJob.MaxConcurrent ?? 1;
    return {
      ReplicatedJob: { MaxConcurrent: max, TotalCompletions: m.ReplicatedJob.TotalCompletions ?? max },
    };
  }
  return { Replicated: { Replicas: m.Replicated?.Replicas ?? 1 } };
}

/**
 * Go decodes `null` into a nil slice, map or pointer, and the protobuf round trip then leaves the
 * field out; so does this (in place, returning its argument).
 */
export function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
  } else if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (obj[key] === null) delete obj[key];
      else dropNulls(obj[key]);
    }
  }
  return value;
}
