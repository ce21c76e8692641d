/**
 * One compose service → the ServiceSpec `docker stack deploy` sends (docker/cli's
 * `compose/convert/service.go`): same fields, same defaults, same omissions. Secret and config
 * references carry names only; the deploy fills in their IDs.
 */
import { ConvertError, compact, withStackLabel } from "./convert-util.ts";
import { convertMounts } from "./convert-volume.ts";
import { IMAGE_LABEL, isObject, type Json, type JsonObject } from "./types.ts";
import { parseBytes, parseCpus, parseDuration } from "./units.ts";

const str = (v: Json | undefined): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const dur = (v: Json | undefined): number | undefined =>
  typeof v === "string" ? parseDuration(v) : undefined;
const nonEmpty = <T>(list: T[] | undefined): T[] | undefined => (list && list.length > 0 ? list : undefined);

function healthcheck(h: Json | undefined): JsonObject | undefined {
  if (!isObject(h)) return undefined;
  if (h.disable === true) {
    if (Array.isArray(h.test) && h.test.length > 0)
      throw new ConvertError("test and disable can't be set at the same time");
    return { Test: ["NONE"] };
  }
  return compact({
    Test: Array.isArray(h.test) ? h.test : undefined,
    Interval: dur(h.interval) || undefined,
    Timeout: dur(h.timeout) || undefined,
    StartPeriod: dur(h.start_period) || undefined,
    StartInterval: dur(h.start_interval) || undefined,
    Retries: typeof h.retries === "number" && h.retries > 0 ? h.retries : undefined,
  });
}

function restartPolicy(restart: Json | undefined, policy: Json | undefined): JsonObject | undefined {
  if (isObject(policy)) {
    return compact({
      Condition: str(policy.condition),
      Delay: dur(policy.delay),
      MaxAttempts: typeof policy.max_attempts === "number" ? policy.max_attempts : undefined,
      Window: dur(policy.window),
    });
  }
  if (typeof restart !== "string" || restart === "" || restart === "no") return undefined;
  const [name, count] = restart.split(":");
  const attempts = count && Number(count) > 0 ? Number(count) : undefined;
  if (name === "always" || name === "unless-stopped")
    return compact({ Condition: "any", MaxAttempts: attempts });
  if (name === "on-failure") return compact({ Condition: "on-failure", MaxAttempts: attempts });
  throw new ConvertError(
    `invalid restart policy: unknown policy '${name}' (must be one of 'no', 'always', 'on-failure', or 'unless-stopped')`,
  );
}

function updateConfig(u: Json | undefined): JsonObject | undefined {
  if (!isObject(u)) return undefined;
  return compact({
    Parallelism: typeof u.parallelism === "number" ? u.parallelism : 1,
    Delay: dur(u.delay) || undefined,
    FailureAction: str(u.failure_action),
    Monitor: dur(u.monitor) || undefined,
    MaxFailureRatio: typeof u.max_failure_ratio === "number" ? u.max_failure_ratio : 0,
    Order: typeof u.order === "string" ? u.order : "",
  });
}

function limits(r: Json | undefined, reservation: boolean): JsonObject | undefined {
  if (!isObject(r)) return undefined;
  const generic = Array.isArray(r.generic_resources)
    ? r.generic_resources.map((g) => {
        const d = isObject(g) && isObject(g.discrete_resource_spec) ? g.discrete_resource_spec : {};
        return { DiscreteResourceSpec: { Kind: d.kind ?? "", Value: d.value ?? 0 } };
      })
    : undefined;
  return compact({
    NanoCPUs: r.cpus !== undefined ? parseCpus(r.cpus as string | number) || undefined : undefined,
    MemoryBytes: r.memory !== undefined ? parseBytes(r.memory as string | number) || undefined : undefined,
    Pids: !reservation && typeof r.pids === "number" && r.pids > 0 ? r.pids : undefined,
    GenericResources: reservation ? nonEmpty(generic) : undefined,
  });
}

function serviceMode(mode: Json | undefined, replicas: Json | undefined): JsonObject {
  const n = typeof replicas === "number" ? replicas : undefined;
  switch (mode ?? "replicated") {
    case "replicated":
      return { Replicated: compact({ Replicas: n }) };
    case "replicated-job":
      return { ReplicatedJob: compact({ MaxConcurrent: n, TotalCompletions: n }) };
    case "global":
    case "global-job":
      if (n !== undefined)
        throw new ConvertError("replicas can only be used with replicated or replicated-job mode");
      return mode === "global" ? { Global: {} } : { GlobalJob: {} };
    default:
      throw new ConvertError(`unknown mode: ${String(mode)}`);
  }
}

function ports(list: Json | undefined): JsonObject[] {
  const out = (Array.isArray(list) ? list : []).filter(isObject).map((p) =>
    compact({
      Protocol: str(p.protocol),
      TargetPort: typeof p.target === "number" ? p.target : undefined,
      PublishedPort: typeof p.published === "number" ? p.published : undefined,
      PublishMode: str(p.mode),
    }),
  );
  const n = (v: Json | undefined) => (typeof v === "number" ? v : 0);
  const s = (v: Json | undefined) => (typeof v === "string" ? v : "");
  return out.sort(
    (a, b) =>
      n(a.PublishedPort) - n(b.PublishedPort) ||
      n(a.TargetPort) - n(b.TargetPort) ||
      s(a.Protocol).localeCompare(s(b.Protocol)) ||
      s(a.PublishMode).localeCompare(s(b.PublishMode)),
  );
}

function environment(env: Json | undefined): string[] | undefined {
  if (!isObject(env)) return undefined;
  return Object.entries(env)
    .map(([k, v]) => (v === null ? k : `${k}=${String(v)}`))
    .sort();
}

/** Built-in network modes get no alias (docker's `NetworkMode.IsUserDefined`). */
const BUILTIN_NETWORKS = new Set(["default", "bridge", "host", "none"]);

function attachments(svc: JsonObject, name: string, networks: JsonObject, namespace: string): JsonObject[] {
  const wanted =
    isObject(svc.networks) && Object.keys(svc.networks).length > 0 ? svc.networks : { default: null };
  const out = Object.entries(wanted).map(([key, cfg]) => {
    const decl = networks[key];
    if (decl === undefined && key !== "default") throw new ConvertError(`undefined network "${key}"`);
    const target = (isObject(decl) && str(decl.name)) || `${namespace}_${key}`;
    const aliases = isObject(cfg) && Array.isArray(cfg.aliases) ? [...cfg.aliases] : [];
    if (!BUILTIN_NETWORKS.has(target) && !target.startsWith("container:")) aliases.push(name);
    return compact({
      Target: target,
      Aliases: nonEmpty(aliases),
      DriverOpts: isObject(cfg) && isObject(cfg.driver_opts) ? cfg.driver_opts : undefined,
    });
  });
  return out.sort((a, b) => String(a.Target).localeCompare(String(b.Target)));
}

function fileRefs(
  list: Json | undefined,
  defs: Json | undefined,
  namespace: string,
  kind: "secret" | "config",
): JsonObject[] {
  const nameKey = kind === "secret" ? "SecretName" : "ConfigName";
  const refs = (Array.isArray(list) ? list : []).filter(isObject).map((ref) => {
    const source = String(ref.source);
    const def = isObject(defs) ? defs[source] : undefined;
    if (!isObject(def)) throw new ConvertError(`undefined ${kind} "${source}"`);
    return {
      File: {
        Name: str(ref.target) ?? source,
        UID: str(ref.uid) ?? "0",
        GID: str(ref.gid) ?? "0",
        Mode: typeof ref.mode === "number" ? ref.mode : 0o444,
      },
      [nameKey]: str(def.name) ?? `${namespace}_${source}`,
    } as JsonObject;
  });
  return refs.sort((a, b) => String(a[nameKey]).localeCompare(String(b[nameKey])));
}

/** The ServiceSpec for compose service `name` of stack `namespace`. */
export function convertService(
  namespace: string,
  name: string,
  svc: JsonObject,
  model: JsonObject,
): JsonObject {
  const deploy = isObject(svc.deploy) ? svc.deploy : {};
  const resources = isObject(deploy.resources) ? deploy.resources : {};
  const placement = isObject(deploy.placement) ? deploy.placement : {};
  const image = typeof svc.image === "string" ? svc.image : "";
  const dns = Array.isArray(svc.dns) ? svc.dns : [];
  const search = Array.isArray(svc.dns_search) ? svc.dns_search : [];
  const ulimits = isObject(svc.ulimits)
    ? Object.entries(svc.ulimits)
        .map(([k, v]) =>
          isObject(v) ? { Name: k, Soft: v.soft ?? 0, Hard: v.hard ?? 0 } : { Name: k, Soft: v, Hard: v },
        )
        .sort((a, b) => a.Name.localeCompare(b.Name))
    : undefined;
  const logging = isObject(svc.logging) ? svc.logging : undefined;
  const portList = ports(svc.ports);
  return compact({
    Name: `${namespace}_${name}`,
    Labels: { ...withStackLabel(namespace, deploy.labels), [IMAGE_LABEL]: image },
    TaskTemplate: compact({
      ContainerSpec: compact({
        Image: image,
        Labels: withStackLabel(namespace, svc.labels),
        Command: nonEmpty(svc.entrypoint as Json[] | undefined),
        Args: nonEmpty(svc.command as Json[] | undefined),
        Hostname: str(svc.hostname),
        Env: nonEmpty(environment(svc.environment)),
        Dir: str(svc.working_dir),
        User: str(svc.user),
        Mounts: nonEmpty(convertMounts(svc.volumes, model.volumes, namespace)),
        StopGracePeriod: dur(svc.stop_grace_period),
        StopSignal: str(svc.stop_signal),
        TTY: svc.tty === true ? true : undefined,
        OpenStdin: svc.stdin_open === true ? true : undefined,
        ReadOnly: svc.read_only === true ? true : undefined,
        Secrets: nonEmpty(fileRefs(svc.secrets, model.secrets, namespace, "secret")),
        Configs: nonEmpty(fileRefs(svc.configs, model.configs, namespace, "config")),
        Privileges: { CredentialSpec: null, SELinuxContext: null, NoNewPrivileges: false },
        Isolation: str(svc.isolation),
        Init: typeof svc.init === "boolean" ? svc.init : undefined,
        Sysctls: isObject(svc.sysctls) ? svc.sysctls : undefined,
        CapabilityAdd: nonEmpty(svc.cap_add as Json[] | undefined),
        CapabilityDrop: nonEmpty(svc.cap_drop as Json[] | undefined),
        Ulimits: nonEmpty(ulimits),
        Healthcheck: healthcheck(svc.healthcheck),
        DNSConfig:
          dns.length > 0 || search.length > 0
            ? compact({ Nameservers: nonEmpty(dns), Search: nonEmpty(search) })
            : undefined,
        Hosts: nonEmpty(
          (Array.isArray(svc.extra_hosts) ? svc.extra_hosts : []).flatMap((h) => {
            const [host, ...ip] = String(h).split(":");
            return ip.length > 0 ? [`${ip.join(":")} ${host}`] : [];
          }),
        ),
      }),
      LogDriver: logging
        ? compact({
            Name: str(logging.driver),
            Options: isObject(logging.options) ? logging.options : undefined,
          })
        : undefined,
      Resources: compact({
        Limits: limits(resources.limits, false),
        Reservations: limits(resources.reservations, true),
      }),
      RestartPolicy: restartPolicy(svc.restart, deploy.restart_policy),
      Placement: compact({
        Constraints: nonEmpty(placement.constraints as Json[] | undefined),
        Preferences: nonEmpty(
          (Array.isArray(placement.preferences) ? placement.preferences : [])
            .filter(isObject)
            .map((p) => ({ Spread: { SpreadDescriptor: p.spread ?? "" } })),
        ),
        MaxReplicas:
          typeof placement.max_replicas_per_node === "number" ? placement.max_replicas_per_node : undefined,
      }),
      Networks: attachments(svc, name, isObject(model.networks) ? model.networks : {}, namespace),
      ForceUpdate: 0,
    }),
    Mode: serviceMode(deploy.mode, deploy.replicas),
    UpdateConfig: updateConfig(deploy.update_config),
    RollbackConfig: updateConfig(deploy.rollback_config),
    EndpointSpec: compact({ Mode: str(deploy.endpoint_mode), Ports: nonEmpty(portList) }),
  });
}
