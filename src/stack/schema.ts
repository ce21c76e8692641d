/**
 * A focused schema for the compose v3 keys `docker stack deploy` understands (docker/cli's
 * `config_schema_v3.x.json`, plus compose-spec's long `depends_on`): a tiny combinator language
 * whose checker (`validate.ts`) reports docker's messages with the path of the offending key.
 */

export type Rule =
  | { kind: "string"; values?: readonly string[] }
  | { kind: "integer" }
  | { kind: "number" }
  | { kind: "boolean" }
  | { kind: "any" }
  | { kind: "null" }
  | { kind: "array"; items: Rule }
  | { kind: "map"; values: Rule }
  | { kind: "object"; props: Readonly<Record<string, Rule>>; extensions?: boolean }
  | { kind: "oneOf"; rules: readonly Rule[]; label: string };

export const str: Rule = { kind: "string" };
export const int: Rule = { kind: "integer" };
export const num: Rule = { kind: "number" };
export const bool: Rule = { kind: "boolean" };
export const anyValue: Rule = { kind: "any" };
export const enumOf = (...values: string[]): Rule => ({ kind: "string", values });
export const arrayOf = (items: Rule): Rule => ({ kind: "array", items });
export const mapOf = (values: Rule): Rule => ({ kind: "map", values });
export const obj = (props: Record<string, Rule>, extensions = false): Rule => ({
  kind: "object",
  props,
  extensions,
});
export const oneOf = (label: string, ...rules: Rule[]): Rule => ({ kind: "oneOf", rules, label });

const strOrNum = oneOf("string,number", str, num);
const nullable = (r: Rule): Rule =>
  oneOf(`${r.kind === "object" ? "object" : r.kind},null`, r, { kind: "null" });
const listOrDict = oneOf(
  "object,array",
  mapOf(oneOf("string,number,boolean,null", str, num, bool, { kind: "null" })),
  arrayOf(str),
);
const strOrList = oneOf("string,array", str, arrayOf(str));
const external = oneOf("boolean,object", bool, obj({ name: str }));

const updateConfig = obj({
  parallelism: int,
  delay: str,
  failure_action: enumOf("continue", "pause", "rollback"),
  monitor: str,
  max_failure_ratio: num,
  order: enumOf("start-first", "stop-first"),
});

const resource = obj({
  cpus: strOrNum,
  memory: strOrNum,
  pids: int,
  generic_resources: arrayOf(obj({ discrete_resource_spec: obj({ kind: str, value: num }) })),
});

const deploy = obj(
  {
    mode: enumOf("replicated", "global", "replicated-job", "global-job"),
    replicas: int,
    labels: listOrDict,
    endpoint_mode: enumOf("vip", "dnsrr"),
    update_config: updateConfig,
    rollback_config: updateConfig,
    resources: obj({ limits: resource, reservations: resource }),
    restart_policy: obj({
      condition: enumOf("none", "on-failure", "any"),
      delay: str,
      max_attempts: int,
      window: str,
    }),
    placement: obj({
      constraints: arrayOf(str),
      preferences: arrayOf(obj({ spread: str })),
      max_replicas_per_node: int,
    }),
  },
  true,
);

const fileRef = oneOf("string,object", str, obj({ source: str, target: str, uid: str, gid: str, mode: num }));

const port = oneOf(
  "number,string,object",
  num,
  str,
  obj(
    {
      mode: enumOf("ingress", "host"),
      target: int,
      published: strOrNum,
      protocol: enumOf("tcp", "udp", "sctp"),
    },
    true,
  ),
);

const volume = oneOf(
  "string,object",
  str,
  obj(
    {
      type: enumOf("volume", "bind", "tmpfs", "npipe", "image"),
      source: str,
      target: str,
      read_only: bool,
      consistency: str,
      bind: obj({ propagation: str }),
      volume: obj({ nocopy: bool, subpath: str }),
      tmpfs: obj({ size: strOrNum }),
    },
    true,
  ),
);

const service = obj(
  {
    build: anyValue,
    cap_add: arrayOf(str),
    cap_drop: arrayOf(str),
    cgroupns_mode: str,
    cgroup_parent: str,
    command: strOrList,
    configs: arrayOf(fileRef),
    container_name: str,
    credential_spec: obj({ config: str, file: str, registry: str }),
    depends_on: oneOf(
      "array,object",
      arrayOf(str),
      mapOf(
        obj(
          { condition: enumOf("service_started", "service_healthy", "service_completed_successfully") },
          true,
        ),
      ),
    ),
    deploy,
    devices: arrayOf(str),
    dns: strOrList,
    dns_search: strOrList,
    domainname: str,
    entrypoint: strOrList,
    env_file: strOrList,
    environment: listOrDict,
    expose: arrayOf(strOrNum),
    external_links: arrayOf(str),
    extra_hosts: listOrDict,
    healthcheck: obj({
      disable: bool,
      interval: str,
      retries: num,
      test: strOrList,
      timeout: str,
      start_period: str,
      start_interval: str,
    }),
    hostname: str,
    image: str,
    init: bool,
    ipc: str,
    isolation: str,
    labels: listOrDict,
    links: arrayOf(str),
    logging: obj({ driver: str, options: mapOf(nullable(strOrNum)) }),
    mac_address: str,
    network_mode: str,
    networks: oneOf(
      "array,object",
      arrayOf(str),
      mapOf(
        nullable(
          obj({ aliases: arrayOf(str), ipv4_address: str, ipv6_address: str, driver_opts: mapOf(strOrNum) }),
        ),
      ),
    ),
    pid: nullable(str),
    ports: arrayOf(port),
    privileged: bool,
    read_only: bool,
    restart: str,
    security_opt: arrayOf(str),
    shm_size: strOrNum,
    secrets: arrayOf(fileRef),
    sysctls: listOrDict,
    stdin_open: bool,
    stop_grace_period: str,
    stop_signal: str,
    tmpfs: strOrList,
    tty: bool,
    ulimits: mapOf(oneOf("integer,object", int, obj({ hard: int, soft: int }))),
    user: str,
    userns_mode: str,
    volumes: arrayOf(volume),
    working_dir: str,
  },
  true,
);

const ipam = obj({ driver: str, config: arrayOf(obj({ subnet: str })) });

const network = nullable(
  obj(
    {
      name: str,
      driver: str,
      driver_opts: mapOf(strOrNum),
      ipam,
      external,
      internal: bool,
      attachable: bool,
      labels: listOrDict,
    },
    true,
  ),
);

const volumeDef = nullable(
  obj({ name: str, driver: str, driver_opts: mapOf(strOrNum), external, labels: listOrDict }, true),
);

const fileObject = obj(
  {
    name: str,
    file: str,
    external,
    labels: listOrDict,
    driver: str,
    driver_opts: mapOf(strOrNum),
    template_driver: str,
  },
  true,
);

export const COMPOSE_SCHEMA: Rule = obj(
  {
    version: str,
    services: mapOf(service),
    networks: mapOf(network),
    volumes: mapOf(volumeDef),
    secrets: mapOf(fileObject),
    configs: mapOf(fileObject),
  },
  true,
);

/** Keys docker/cli refuses outright (`ForbiddenProperties`), with its explanations. */
export const FORBIDDEN_PROPERTIES: Readonly<Record<string, string>> = {
  extends: "Support for `extends` is not implemented yet.",
  volume_driver:
    "Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.",
  volumes_from:
    "To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.",
  cpu_quota: "Set resource limits using deploy.resources",
  cpu_shares: "Set resource limits using deploy.resources",
  cpuset: "Set resource limits using deploy.resources",
  mem_limit: "Set resource limits using deploy.resources",
  memswap_limit: "Set resource limits using deploy.resources",
};

/** Keys swarm ignores for stacks (docker/cli `UnsupportedProperties`). */
export const UNSUPPORTED_PROPERTIES: readonly string[] = [
  "build",
  "cgroupns_mode",
  "cgroup_parent",
  "devices",
  "domainname",
  "external_links",
  "ipc",
  "links",
  "mac_address",
  "network_mode",
  "pid",
  "privileged",
  "restart",
  "security_opt",
  "shm_size",
  "userns_mode",
];

/** Keys removed from v3 whose use is harmless (docker/cli `DeprecatedProperties`). */
export const DEPRECATED_PROPERTIES: Readonly<Record<string, string>> = {
  container_name: "Setting the container name is not supported.",
  expose:
    "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
};
