/**
 * The pure translation of a task to dockerd's `POST /containers/create` request, the way moby's
 * swarm executor does it (`daemon/cluster/executor/container/container.go`): the container name,
 * Swarm's system labels, the Config and the HostConfig. Templates in the hostname, the env values and
 * the mount sources/targets are expanded first (swarmkit `template/expand.go`).
 */
import type { ContainerConfig, HostConfig, NetworkingConfig, Task } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";
import { exposedPorts, hostConfig } from "./host-config.ts";
import { normalizeImage } from "./image.ts";
import { payloadMounts, plannedFiles } from "./payload-files.ts";
import { type ContainerSpec, containerSpecOf, healthcheckOf, type TaskEnvironment } from "./spec.ts";
import { expandTemplate, type TemplateContext } from "./template.ts";

/** Reserved label namespace; the system labels override any user label under it. */
export const SYSTEM_LABEL_PREFIX = "com.docker.swarm";
export const LABEL_TASK = `${SYSTEM_LABEL_PREFIX}.task`;
export const LABEL_TASK_ID = `${SYSTEM_LABEL_PREFIX}.task.id`;
export const LABEL_TASK_NAME = `${SYSTEM_LABEL_PREFIX}.task.name`;
export const LABEL_NODE_ID = `${SYSTEM_LABEL_PREFIX}.node.id`;
export const LABEL_SERVICE_ID = `${SYSTEM_LABEL_PREFIX}.service.id`;
export const LABEL_SERVICE_NAME = `${SYSTEM_LABEL_PREFIX}.service.name`;

/** The body of `POST /containers/create`. */
export type ContainerCreateBody = ContainerConfig & {
  HostConfig: HostConfig;
  NetworkingConfig?: NetworkingConfig;
};

/** A create request: the container name goes in the query string. */
export interface ContainerCreateRequest {
  name: string;
  body: ContainerCreateBody;
}

/**
 * `<service>.<slot>.<taskid>`, or `<service>.<nodeid>.<taskid>` for slot-less (global) tasks; an
 * annotation name set by the orchestrator wins (swarmkit `naming.Task`).
 */
export function taskName(task: Task, serviceName: string): string {
  if (task.Name) return task.Name;
  const slot = task.Slot ? String(task.Slot) : (task.NodeID ?? "");
  return `${serviceName}.${slot}.${task.ID}`;
}

/** swarmkit `template.NewContext`. */
export function templateContext(task: Task, env: TaskEnvironment): TemplateContext {
  return {
    Service: {
      ID: task.ServiceID ?? env.service.ID,
      Name: env.service.Name,
      Labels: { ...env.service.Labels },
    },
    Node: {
      ID: task.NodeID ?? env.node.ID,
      Hostname: env.node.Hostname,
      Platform: { Architecture: env.node.Platform?.Architecture ?? "", OS: env.node.Platform?.OS ?? "" },
    },
    Task: {
      ID: task.ID,
      Name: taskName(task, env.service.Name),
      Slot: task.Slot ? String(task.Slot) : (task.NodeID ?? ""),
    },
  };
}

/** Mount checks done before anything reaches dockerd (moby `validateMounts`). */
function validateMounts(spec: ContainerSpec): void {
  for (const m of spec.Mounts ?? []) {
    const target = m.Target ?? "";
    if (!target.startsWith("/") && m.Type !== "npipe") {
      throw invalidArgument(`invalid mount target, must be an absolute path: ${target}`);
    }
    const source = m.Source ?? "";
    if (m.Type === "bind" && !source.startsWith("/")) {
      throw invalidArgument(`invalid bind mount source, must be an absolute path: ${source}`);
    }
    if (m.Type === "volume" && source.startsWith("/")) {
      throw invalidArgument(`invalid volume mount source, must not be an absolute path: ${source}`);
    }
    if (m.Type === "tmpfs" && source !== "")
      throw invalidArgument("invalid tmpfs source, source must be empty");
    if (m.Type === "npipe" && source === "")
      throw invalidArgument("invalid npipe source, source must not be empty");
    if (!["bind", "volume", "tmpfs", "npipe"].includes(m.Type ?? "")) {
      throw invalidArgument(`invalid mount type: ${m.Type ?? ""}`);
    }
  }
}

/** swarmkit `ExpandContainerSpec`: env values, mount source/target/volume options, hostname. */
export function expandSpec(spec: ContainerSpec, ctx: TemplateContext): ContainerSpec {
  const wrap = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw invalidArgument(`expanding ${what} failed: ${(err as Error).message}`);
    }
  };
  const env = spec.Env?.map((e) => {
    const eq = e.indexOf("=");
    if (eq < 0) return e;
    return `${e.slice(0, eq)}=${wrap("env", () => expandTemplate(e.slice(eq + 1), ctx))}`;
  });
  const expandMap = (m: Record<string, string> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, expandTemplate(v, ctx)]));
  const mounts = spec.Mounts?.map((m) =>
    wrap("mounts", () => {
      const vo = m.VolumeOptions;
      const out = {
        ...m,
        Source: expandTemplate(m.Source ?? "", ctx),
        Target: expandTemplate(m.Target ?? "", ctx),
      };
      if (vo) {
        out.VolumeOptions = { ...vo, Labels: expandMap(vo.Labels) };
        if (vo.DriverConfig) {
          out.VolumeOptions.DriverConfig = {
            ...vo.DriverConfig,
            Options: expandMap(vo.DriverConfig.Options),
          };
        }
      }
      return out;
    }),
  );
  const hostname = wrap("hostname", () => expandTemplate(spec.Hostname ?? "", ctx));
  return { ...spec, Env: env, Mounts: mounts, Hostname: hostname };
}

/** Spec labels, then the task's own labels, then Swarm's system labels, which win. */
export function containerLabels(
  task: Task,
  env: TaskEnvironment,
  spec: ContainerSpec,
): Record<string, string> {
  return {
    ...spec.Labels,
    ...task.Labels,
    [LABEL_TASK]: "",
    [LABEL_TASK_ID]: task.ID,
    [LABEL_TASK_NAME]: taskName(task, env.service.Name),
    [LABEL_NODE_ID]: task.NodeID ?? env.node.ID,
    [LABEL_SERVICE_ID]: task.ServiceID ?? env.service.ID,
    [LABEL_SERVICE_NAME]: env.service.Name,
  };
}

/** `DOCKER_RESOURCE_<KIND>=v1,v2` for the generic resources assigned to the task. */
function genericResourceEnv(task: Task): string[] {
  const byKind = new Map<string, string[]>();
  for (const r of task.AssignedGenericResources ?? []) {
    const kind = r.NamedResourceSpec?.Kind ?? r.DiscreteResourceSpec?.Kind ?? "";
    const value = r.NamedResourceSpec?.Value ?? String(r.DiscreteResourceSpec?.Value ?? "");
    byKind.set(kind, [...(byKind.get(kind) ?? []), value]);
  }
  return [...byKind].map(([k, v]) => `DOCKER_RESOURCE_${k.toUpperCase()}=${v.join(",")}`);
}

function config(task: Task, env: TaskEnvironment, spec: ContainerSpec): ContainerConfig {
  const c: ContainerConfig = {
    Image: normalizeImage(spec.Image ?? ""),
    Labels: containerLabels(task, env, spec),
  };
  const envs = [...(spec.Env ?? []), ...genericResourceEnv(task)];
  if (envs.length) c.Env = envs;
  // Command replaces the image's entrypoint; Args alone are the entrypoint's arguments.
  if (spec.Command?.length) c.Entrypoint = [...spec.Command];
  if (spec.Args?.length) c.Cmd = [...spec.Args];
  if (spec.Hostname) c.Hostname = spec.Hostname;
  if (spec.Dir) c.WorkingDir = spec.Dir;
  if (spec.User) c.User = spec.User;
  if (spec.TTY) c.Tty = true;
  if (spec.OpenStdin) c.OpenStdin = true;
  if (spec.StopSignal) c.StopSignal = spec.StopSignal;
  // moby passes the grace period to each stop call; shoal also records it on the container so that
  // a `docker stop` by hand (or dockerd's own shutdown) honours it.
  if (spec.StopGracePeriod !== undefined) c.StopTimeout = Math.max(0, Math.floor(spec.StopGracePeriod / 1e9));
  const hc = healthcheckOf(spec);
  if (hc) c.Healthcheck = { ...hc };
  const exposed = exposedPorts(env.service.Ports ?? []);
  if (exposed) c.ExposedPorts = exposed;
  return c;
}

function networking(env: TaskEnvironment): NetworkingConfig | undefined {
  const first = env.networks?.[0];
  if (!first) return undefined;
  const v4 = first.addresses?.map((a) => a.split("/")[0]!).find((a) => !a.includes(":"));
  const v6 = first.addresses?.map((a) => a.split("/")[0]!).find((a) => a.includes(":"));
  const settings: NonNullable<NetworkingConfig["EndpointsConfig"]>[string] = {};
  if (first.id) settings.NetworkID = first.id;
  if (v4 || v6) settings.IPAMConfig = { IPv4Address: v4, IPv6Address: v6 };
  if (first.aliases?.length) settings.Aliases = [...first.aliases];
  return { EndpointsConfig: { [first.name]: settings } };
}

/**
 * Task → create request. Throws InvalidArgument (which the controller reports as `rejected`) for a
 * task that is not a container, has no image, has a bad mount or an unsupported template.
 */
export function containerCreateRequest(task: Task, env: TaskEnvironment): ContainerCreateRequest {
  const raw = containerSpecOf(task);
  if (!raw) throw invalidArgument("exec: unsupported runtime");
  if (!raw.Image) throw invalidArgument("dockerexec: image required");
  validateMounts(raw);
  const spec = expandSpec(raw, templateContext(task, env));
  const body: ContainerCreateBody = {
    ...config(task, env, spec),
    HostConfig: hostConfig(task, spec, env.service.Ports ?? [], env.networks ?? []),
  };
  const files = plannedFiles(spec);
  if (files.length > 0) {
    if (!env.payloadDir) {
      throw invalidArgument("this node has no in-memory filesystem for secrets and configs");
    }
    body.HostConfig.Mounts = [...(body.HostConfig.Mounts ?? []), ...payloadMounts(files, env.payloadDir)];
  }
  const net = networking(env);
  if (net) body.NetworkingConfig = net;
  return { name: taskName(task, env.service.Name), body };
}
