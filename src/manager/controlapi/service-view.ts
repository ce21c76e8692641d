/**
 * What the Engine API shows of stored services and tasks. Swarm keeps the `X-Registry-Auth` of a
 * service in `ContainerSpec.PullOptions.RegistryAuth` (so it travels with the spec into every task
 * for the agent's pulls, and rolls back with PreviousSpec) but moby never returns it; shoal stores
 * it the same way and strips it here, together with the manager-only task fields.
 */
import type {
  ObjectVersion,
  Service,
  ServiceSpec,
  SwarmService,
  SwarmTask,
  Task,
  TaskSpec,
} from "../../api/index.ts";
import { insertDefaults } from "./service-defaults.ts";

/** A service as the control API stores it: SwarmKit's previous spec and spec versions included. */
export type StoredService = SwarmService & {
  PreviousSpec?: ServiceSpec;
  PreviousSpecVersion?: ObjectVersion;
};

type ContainerWithPull = NonNullable<TaskSpec["ContainerSpec"]> & { PullOptions?: { RegistryAuth?: string } };

const containerOf = (spec: ServiceSpec | undefined): ContainerWithPull | undefined =>
  spec?.TaskTemplate?.ContainerSpec as ContainerWithPull | undefined;

/** The registry credentials stored with a spec, if any. */
export const registryAuthOf = (spec: ServiceSpec | undefined): string | undefined =>
  containerOf(spec)?.PullOptions?.RegistryAuth;

/** Sets (or, with undefined, clears) the registry credentials carried by a spec, in place. */
export function setRegistryAuth(spec: ServiceSpec, auth: string | undefined): void {
  const c = containerOf(spec);
  if (!c) return;
  if (auth) c.PullOptions = { RegistryAuth: auth };
  else delete c.PullOptions;
}

function stripTaskSpec(spec: TaskSpec | undefined): void {
  if (spec?.ContainerSpec) delete (spec.ContainerSpec as ContainerWithPull).PullOptions;
}

/** A stored service as `GET /services` shows it. */
export function publicService(stored: Service, opts: { insertDefaults?: boolean } = {}): Service {
  const s = structuredClone(stored) as StoredService;
  delete s.SpecVersion;
  delete s.PreviousSpecVersion;
  if (s.UpdateStatus === null) delete s.UpdateStatus;
  if (s.Spec) {
    stripTaskSpec(s.Spec.TaskTemplate);
    if (opts.insertDefaults) s.Spec = insertDefaults(s.Spec);
  }
  if (s.PreviousSpec) stripTaskSpec(s.PreviousSpec.TaskTemplate);
  s.Endpoint ??= provisionalEndpoint(stored.Spec);
  s.Endpoint.Spec ??= {};
  return s;
}

/**
 * Until the allocator has written the service's Endpoint, show the ports the spec publishes
 * explicitly (`service ls` reads `Endpoint.Ports`, not the spec). moby always writes the Endpoint
 * struct, if only as {"Spec":{}}.
 */
function provisionalEndpoint(spec: ServiceSpec | undefined): NonNullable<Service["Endpoint"]> {
  const endpointSpec = structuredClone(spec?.EndpointSpec ?? {});
  const ports = (endpointSpec.Ports ?? []).filter((p) => (p.PublishedPort ?? 0) > 0);
  return ports.length > 0 ? { Spec: endpointSpec, Ports: ports } : { Spec: endpointSpec };
}

/** A stored task as `GET /tasks` shows it: no spec version, endpoint copy or manager stamps. */
export function publicTask(stored: Task): Task {
  const t = structuredClone(stored) as SwarmTask;
  delete t.SpecVersion;
  delete t.ServiceAnnotations;
  delete t.Endpoint;
  delete t.UpdateMonitor; // the updater's bookkeeping
  if (t.Status) {
    delete t.Status.AppliedBy;
    delete t.Status.AppliedAt;
  }
  stripTaskSpec(t.Spec);
  return t;
}
