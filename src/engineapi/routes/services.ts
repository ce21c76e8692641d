/**
 * `/services*`: create, inspect, list, update and remove, over the control API. Query parsing and
 * statuses follow moby's `router/swarm/cluster_routes.go`: create answers 201 `{"ID"}`, update 200
 * `{"Warnings":null}`, delete 200 with no body. `X-Registry-Auth` goes to the control API, which
 * stores it with the service and never shows it.
 */
import type { ServiceSpec } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";
import { jsonBody, type Shape, shape } from "../http/body.ts";
import { parseFilters } from "../http/filters.ts";
import { formValue, parseVersionParam, strictBool } from "../http/query.ts";
import { sendEmpty, sendJson } from "../http/reply.ts";
import { compareVersions, requestApiVersion } from "../routing.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Query = Record<string, unknown>;
type Params = { id: string };

const { string, bool, any, int, map, array, struct } = shape;

// Numbers the control API checks itself (replicas, ports, durations: moby's decoder messages) are
// `any` here; the shape guards the structure so a wrong type is a 400, never a crash later.
const driver = struct("swarm.Driver", { Name: string, Options: map(string) });
const fileTarget = struct("swarm.SecretReferenceFileTarget", {
  Name: string,
  UID: string,
  GID: string,
  Mode: any,
});
const mount = struct("mount.Mount", {
  Type: string,
  Source: string,
  Target: string,
  ReadOnly: bool,
  Consistency: string,
  BindOptions: struct("mount.BindOptions", { Propagation: string, NonRecursive: bool }),
  VolumeOptions: struct("mount.VolumeOptions", { NoCopy: bool, Labels: map(string), DriverConfig: driver }),
  TmpfsOptions: struct("mount.TmpfsOptions", { SizeBytes: int("int64"), Mode: any }),
});
const containerSpec = struct("swarm.ContainerSpec", {
  Image: string,
  Labels: map(string),
  Command: array(string),
  Args: array(string),
  Hostname: string,
  Env: array(string),
  Dir: string,
  User: string,
  Groups: array(string),
  TTY: bool,
  OpenStdin: bool,
  ReadOnly: bool,
  Mounts: array(mount, "[]mount.Mount"),
  StopSignal: string,
  StopGracePeriod: any,
  Hosts: array(string),
  DNSConfig: struct("swarm.DNSConfig", {
    Nameservers: array(string),
    Search: array(string),
    Options: array(string),
  }),
  Secrets: array(
    struct("swarm.SecretReference", { File: fileTarget, SecretID: string, SecretName: string }),
    "[]*swarm.SecretReference",
  ),
  Configs: array(
    struct("swarm.ConfigReference", { File: fileTarget, Runtime: any, ConfigID: string, ConfigName: string }),
    "[]*swarm.ConfigReference",
  ),
  Isolation: string,
  Init: bool,
  Sysctls: map(string),
  CapabilityAdd: array(string),
  CapabilityDrop: array(string),
});
const resources = struct("swarm.Resources", { NanoCPUs: int("int64"), MemoryBytes: int("int64") });
const updateConfig = struct("swarm.UpdateConfig", {
  Parallelism: any,
  Delay: any,
  FailureAction: string,
  Monitor: any,
  MaxFailureRatio: any,
  Order: string,
});

export const SERVICE_SPEC: Shape & { kind: "struct" } = struct("swarm.ServiceSpec", {
  Name: string,
  Labels: map(string),
  TaskTemplate: struct("swarm.TaskSpec", {
    ContainerSpec: containerSpec,
    Resources: struct("swarm.ResourceRequirements", { Limits: resources, Reservations: resources }),
    RestartPolicy: struct("swarm.RestartPolicy", {
      Condition: string,
      Delay: any,
      MaxAttempts: any,
      Window: any,
    }),
    Placement: struct("swarm.Placement", {
      Constraints: array(string),
      Preferences: array(any, "[]swarm.PlacementPreference"),
      MaxReplicas: any,
      Platforms: array(struct("swarm.Platform", { Architecture: string, OS: string }), "[]swarm.Platform"),
    }),
    Networks: array(
      struct("swarm.NetworkAttachmentConfig", {
        Target: string,
        Aliases: array(string),
        DriverOpts: map(string),
      }),
      "[]swarm.NetworkAttachmentConfig",
    ),
    LogDriver: driver,
    ForceUpdate: any,
    Runtime: string,
  }),
  Mode: struct("swarm.ServiceMode", { Replicated: any, Global: any, ReplicatedJob: any, GlobalJob: any }),
  UpdateConfig: updateConfig,
  RollbackConfig: updateConfig,
  EndpointSpec: struct("swarm.EndpointSpec", {
    Mode: string,
    Ports: array(
      struct("swarm.PortConfig", {
        Name: string,
        Protocol: string,
        TargetPort: any,
        PublishedPort: any,
        PublishMode: string,
      }),
      "[]swarm.PortConfig",
    ),
  }),
}) as Shape & { kind: "struct" };

/** The X-Registry-Auth header ("" when absent, as Go's Header.Get). */
function registryAuthHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = formValue(headers["x-registry-auth"]);
  return value === "" ? undefined : value;
}

function registryAuthFrom(raw: unknown): string | undefined {
  const v = formValue(raw);
  if (v === "") return undefined;
  if (v !== "spec" && v !== "previous-spec") throw invalidArgument(`invalid registryAuthFrom '${v}'`);
  return v;
}

export function registerServiceRoutes(app: EngineApp, deps: RouteDeps): void {
  const control = () => deps.backend.control();

  app.get("/services", async (request, reply) => {
    const query = request.query as Query;
    const filters = Object.fromEntries(parseFilters(query.filters));
    // `status` exists from API 1.41; older clients' value is ignored, as moby does.
    const status =
      compareVersions(requestApiVersion(request.raw), "1.41") >= 0 && strictBool("status", query.status);
    return sendJson(reply, 200, control().listServices(filters, { status }));
  });

  app.get<{ Params: Params }>("/services/:id", async (request, reply) => {
    const insertDefaults = strictBool("insertDefaults", (request.query as Query).insertDefaults);
    return sendJson(reply, 200, control().getService(request.params.id, { insertDefaults }));
  });

  app.post("/services/create", async (request, reply) => {
    const spec = jsonBody<ServiceSpec>(request, SERVICE_SPEC);
    const created = await control().createService(spec, registryAuthHeader(request.headers));
    return sendJson(reply, 201, created);
  });

  // moby's order: body, version, registryAuthFrom, then the cluster.
  app.post<{ Params: Params }>("/services/:id/update", async (request, reply) => {
    const spec = jsonBody<ServiceSpec>(request, SERVICE_SPEC);
    const query = request.query as Query;
    const version = parseVersionParam("service", query.version);
    const opts = {
      registryAuthFrom: registryAuthFrom(query.registryAuthFrom),
      rollback: formValue(query.rollback),
      registryAuth: registryAuthHeader(request.headers),
    };
    return sendJson(reply, 200, await control().updateService(request.params.id, version, spec, opts));
  });

  app.delete<{ Params: Params }>("/services/:id", async (request, reply) => {
    await control().removeService(request.params.id);
    return sendEmpty(reply, 200);
  });
}
