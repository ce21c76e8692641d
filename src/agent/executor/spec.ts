/**
 * The input of the translation: the task's ContainerSpec as the CLI really sends it, and what the
 * agent knows about the service, the node and the networks.
 */
import type { EndpointPortConfig, HealthConfig, Task, TaskSpec } from "../../api/index.ts";

/**
 * The ContainerSpec of a task. The v1.41 document spells the health check `HealthCheck`, but the CLI
 * sends (and Go decodes case-insensitively) `Healthcheck`; both are read. The newer privilege fields
 * (API 1.44) are accepted when present.
 */
export type ContainerSpec = NonNullable<TaskSpec["ContainerSpec"]> & {
  Healthcheck?: HealthConfig & { StartInterval?: number };
  HealthCheck?: HealthConfig & { StartInterval?: number };
  Privileges?: {
    Seccomp?: { Mode?: "default" | "unconfined" | "custom"; Profile?: string };
    AppArmor?: { Mode?: "default" | "disabled" };
    NoNewPrivileges?: boolean;
  };
  OomScoreAdj?: number;
  /** The service's registry credentials as the control API stores them (SwarmKit's place). */
  PullOptions?: { RegistryAuth?: string };
};

/** A network the task joins, as the agent's network layer resolved it. */
export interface NetworkEndpoint {
  /** The local (dockerd) network name. */
  name: string;
  /** The dockerd network ID, if known. */
  id?: string;
  /** Cluster-assigned addresses in CIDR form (`10.0.0.7/24`). */
  addresses?: string[];
  aliases?: string[];
}

/** What the translation needs beyond the task itself. */
export interface TaskEnvironment {
  service: {
    ID: string;
    Name: string;
    Labels?: Record<string, string>;
    /** The service's endpoint ports; only `PublishMode: host` ones are bound by the container. */
    Ports?: EndpointPortConfig[];
  };
  node: { ID: string; Hostname: string; Platform?: { Architecture?: string; OS?: string } };
  /** Networks to attach at create; dockerd 20.10 takes one at create, the rest are connected later. */
  networks?: NetworkEndpoint[];
  /** The service's registry credentials (base64url X-Registry-Auth) for pulls; never logged. */
  registryAuth?: string;
  /** The task's in-memory directory that secret and config files are bind-mounted from. */
  payloadDir?: string;
}

/** The ContainerSpec of a task, or undefined for tasks that are not containers. */
export function containerSpecOf(task: Task): ContainerSpec | undefined {
  return task.Spec?.ContainerSpec as ContainerSpec | undefined;
}

/** The health check of a spec under either spelling. */
export function healthcheckOf(spec: ContainerSpec): (HealthConfig & { StartInterval?: number }) | undefined {
  return spec.Healthcheck ?? spec.HealthCheck;
}

/** The stop grace period in whole seconds (moby truncates), or undefined for dockerd's default. */
export function stopTimeoutSeconds(spec: ContainerSpec | undefined): number | undefined {
  const ns = spec?.StopGracePeriod;
  if (ns === undefined || ns === null) return undefined;
  return Math.max(0, Math.floor(ns / 1e9));
}
