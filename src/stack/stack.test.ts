/** Table tests over `testdata/`: each compose file → the objects `docker stack deploy` would send. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { convertStack, type JsonObject, loadCompose, type StackObjects } from "./index.ts";

const DIR = join(fileURLToPath(new URL(".", import.meta.url)), "testdata");
const ENV = { FROM_SHELL: "shell", REPLICAS: "3", EMPTY: "", HOME: "/home/u" };

function deploy(files: string[], env: Record<string, string> = ENV): StackObjects & { warnings: string[] } {
  const opts = { env, workingDir: DIR, readFile: (p: string) => readFileSync(p) };
  const sources = files.map((f) => ({ name: f, text: readFileSync(join(DIR, f), "utf8") }));
  const loaded = loadCompose(sources, opts);
  return { ...convertStack("app", loaded.model, opts), warnings: loaded.warnings };
}

const svc = (objs: StackObjects, name: string): JsonObject => {
  const found = objs.services.find((s) => s.name === name);
  assert.ok(found, `service ${name}`);
  return found.spec;
};
const task = (spec: JsonObject) => spec.TaskTemplate as JsonObject;
const container = (spec: JsonObject) => task(spec).ContainerSpec as JsonObject;

interface Case {
  name: string;
  files: string[];
  env?: Record<string, string>;
  check?: (objs: StackObjects & { warnings: string[] }) => void;
  error?: RegExp;
}

const CASES: Case[] = [
  {
    name: "basic: names, stack labels, image label, env sorted, default network with alias",
    files: ["basic.yml"],
    check: (o) => {
      const web = svc(o, "web");
      assert.equal(web.Name, "app_web");
      assert.deepEqual(web.Labels, {
        "deploy.label": "y",
        "com.docker.stack.namespace": "app",
        "com.docker.stack.image": "nginx:alpine",
      });
      assert.deepEqual(container(web).Labels, { "svc.label": "x", "com.docker.stack.namespace": "app" });
      assert.deepEqual(container(web).Args, ["nginx", "-g", "daemon off;"]);
      assert.deepEqual(container(web).Env, ["A=1", "FROM_SHELL=shell"]);
      assert.deepEqual(task(web).Networks, [{ Target: "app_default", Aliases: ["web"] }]);
      assert.deepEqual(web.Mode, { Replicated: { Replicas: 2 } });
      assert.deepEqual(web.EndpointSpec, {});
      assert.deepEqual(o.networks, [
        {
          name: "app_default",
          create: { Labels: { "com.docker.stack.namespace": "app" }, Driver: "overlay" },
        },
      ]);
      assert.deepEqual(o.warnings, []);
    },
  },
  {
    name: "ports: short and long syntax, ranges, sorted by published port",
    files: ["ports.yml"],
    check: (o) => {
      assert.deepEqual((svc(o, "web").EndpointSpec as JsonObject).Ports, [
        { Protocol: "tcp", TargetPort: 443, PublishMode: "ingress" },
        { Protocol: "tcp", TargetPort: 70, PublishedPort: 7000, PublishMode: "ingress" },
        { Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress" },
        { Protocol: "udp", TargetPort: 90, PublishedPort: 9000, PublishMode: "ingress" },
        { Protocol: "udp", TargetPort: 91, PublishedPort: 9001, PublishMode: "ingress" },
        { Protocol: "tcp", TargetPort: 5000, PublishedPort: 15000, PublishMode: "host" },
      ]);
    },
  },
  {
    name: "deploy: mode, placement, resources, restart, update and rollback config, endpoint mode",
    files: ["deploy.yml"],
    check: (o) => {
      const api = svc(o, "api");
      assert.deepEqual(api.Mode, { Replicated: { Replicas: 3 } });
      assert.deepEqual(task(api).Placement, {
        Constraints: ["node.role == worker"],
        Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }],
        MaxReplicas: 2,
      });
      assert.deepEqual(task(api).Resources, {
        Limits: { NanoCPUs: 500_000_000, MemoryBytes: 512 * 1024 ** 2, Pids: 100 },
        Reservations: { NanoCPUs: 250_000_000, MemoryBytes: 128 * 1024 ** 2 },
      });
      assert.deepEqual(task(api).RestartPolicy, {
        Condition: "on-failure",
        Delay: 5e9,
        MaxAttempts: 3,
        Window: 90e9,
      });
      assert.deepEqual(api.UpdateConfig, {
        Parallelism: 2,
        Delay: 10e9,
        FailureAction: "rollback",
        MaxFailureRatio: 0,
        Order: "start-first",
      });
      assert.deepEqual(api.RollbackConfig, {
        Parallelism: 1,
        Monitor: 30e9,
        MaxFailureRatio: 0.5,
        Order: "",
      });
      assert.deepEqual(api.EndpointSpec, { Mode: "dnsrr" });
      assert.deepEqual(svc(o, "agent").Mode, { Global: {} });
    },
  },
  {
    name: "healthcheck: string test is CMD-SHELL, durations in ns, disable is NONE",
    files: ["healthcheck.yml"],
    check: (o) => {
      assert.deepEqual(container(svc(o, "web")).Healthcheck, {
        Test: ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"],
        Interval: 5e9,
        Timeout: 2e9,
        StartPeriod: 60e9,
        Retries: 3,
      });
      assert.deepEqual(container(svc(o, "quiet")).Healthcheck, { Test: ["NONE"] });
      assert.deepEqual(container(svc(o, "exec")).Healthcheck, { Test: ["CMD", "true"] });
    },
  },
  {
    name: "volumes: named (stack-scoped, labels, driver), bind (absolute), anonymous, tmpfs, external",
    files: ["volumes.yml"],
    check: (o) => {
      assert.deepEqual(container(svc(o, "db")).Mounts, [
        {
          Type: "volume",
          Source: "app_data",
          Target: "/var/lib/postgresql/data",
          VolumeOptions: {
            Labels: { backup: "daily", "com.docker.stack.namespace": "app" },
            DriverConfig: { Name: "local", Options: { type: "none" } },
          },
        },
        { Type: "bind", Source: join(DIR, "conf"), Target: "/etc/conf", ReadOnly: true },
        { Type: "volume", Target: "/anon" },
        { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 64 * 1024 ** 2 } },
        { Type: "volume", Source: "team-shared", Target: "/shared", VolumeOptions: { NoCopy: true } },
      ]);
    },
  },
  {
    name: "networks: overlay options, attachable, internal, ipam, external, aliases sorted by target",
    files: ["networks.yml"],
    check: (o) => {
      assert.deepEqual(o.externalNetworks, ["shared-net"]);
      assert.deepEqual(
        o.networks.map((n) => n.name),
        ["app_back", "app_default", "app_front"],
      );
      assert.deepEqual(o.networks[0]?.create, {
        Labels: { "com.docker.stack.namespace": "app" },
        Driver: "overlay",
        Internal: true,
        IPAM: { Config: [{ Subnet: "10.20.0.0/24" }] },
      });
      assert.deepEqual(o.networks[2]?.create, {
        Labels: { tier: "front", "com.docker.stack.namespace": "app" },
        Driver: "overlay",
        Options: { encrypted: "" },
        Attachable: true,
      });
      assert.deepEqual(task(svc(o, "web")).Networks, [
        { Target: "app_back", Aliases: ["web"] },
        { Target: "app_front", Aliases: ["www", "web"] },
      ]);
      assert.deepEqual(task(svc(o, "db")).Networks, [
        { Target: "app_back", Aliases: ["db"] },
        { Target: "shared-net", Aliases: ["db"] },
      ]);
      assert.deepEqual(task(svc(o, "lonely")).Networks, [{ Target: "app_default", Aliases: ["lonely"] }]);
    },
  },
  {
    name: "secrets and configs: file ones created with the stack label, external referenced",
    files: ["secrets.yml"],
    check: (o) => {
      assert.deepEqual(o.secrets, [
        {
          Name: "app_db_password",
          Labels: { kind: "password", "com.docker.stack.namespace": "app" },
          Data: Buffer.from("s3cr3t\n").toString("base64"),
        },
      ]);
      assert.deepEqual(o.configs, [
        {
          Name: "app_nginx_conf",
          Labels: { "com.docker.stack.namespace": "app" },
          Data: Buffer.from("listen 80;\n").toString("base64"),
        },
      ]);
      const c = container(svc(o, "web"));
      assert.deepEqual(c.Secrets, [
        { File: { Name: "/etc/api.key", UID: "101", GID: "0", Mode: 0o400 }, SecretName: "api_key" },
        { File: { Name: "db_password", UID: "0", GID: "0", Mode: 0o444 }, SecretName: "app_db_password" },
      ]);
      assert.deepEqual(c.Configs, [
        {
          File: { Name: "/etc/nginx/conf.d/default.conf", UID: "0", GID: "0", Mode: 0o444 },
          ConfigName: "app_nginx_conf",
        },
      ]);
    },
  },
  {
    name: "interpolation: defaults, unset vs empty, $$, typed replicas",
    files: ["interpolation.yml"],
    env: { REPLICAS: "5", EMPTY: "", TAG: "1.27" },
    check: (o) => {
      const web = svc(o, "web");
      assert.equal(container(web).Image, "nginx:1.27");
      assert.deepEqual(container(web).Env, ["EMPTY_COLON=fallback", "EMPTY_DASH=", "LEVEL=info", "PRICE=$5"]);
      assert.deepEqual(web.Mode, { Replicated: { Replicas: 5 } });
    },
  },
  {
    name: "interpolation: a required variable (:?) names the variable",
    files: ["required-var.yml"],
    error: /^required-var\.yml: required variable REGISTRY is missing a value: set REGISTRY first$/,
  },
  {
    name: "interpolation: an unclosed ${ names the key",
    files: ["bad-interpolation.yml"],
    error: /invalid interpolation format for services\.web\.image: "nginx:\$\{TAG"/,
  },
  {
    name: "anchors, merge keys and x- extension fields",
    files: ["anchors.yml"],
    check: (o) => {
      assert.deepEqual(container(svc(o, "one")).Args, ["sleep", "1"]);
      assert.deepEqual(container(svc(o, "one")).Env, ["COMMON=1"]);
      assert.deepEqual(container(svc(o, "two")).Env, ["COMMON=1", "OWN=2"]);
      assert.deepEqual(task(svc(o, "two")).RestartPolicy, { Condition: "any" });
    },
  },
  {
    name: "several files merge in order: maps merged, ports keyed, scalars overridden",
    files: ["override-base.yml", "override-prod.yml"],
    check: (o) => {
      const web = svc(o, "web");
      assert.equal(container(web).Image, "nginx:1.27");
      assert.deepEqual(container(web).Env, ["A=1", "B=20", "C=30"]);
      assert.equal(((web.EndpointSpec as JsonObject).Ports as JsonObject[]).length, 2);
      assert.deepEqual(web.Mode, { Replicated: { Replicas: 4 } });
      assert.deepEqual(
        o.services.map((s) => s.name),
        ["web", "worker"],
      );
    },
  },
  {
    name: "env_file: read relative to the compose file, environment wins",
    files: ["env-file.yml"],
    check: (o) => {
      assert.deepEqual(container(svc(o, "web")).Env, [
        "A=from-environment",
        "EXPORTED=1",
        "FROM_FILE=yes",
        "QUOTED=a b",
      ]);
    },
  },
  {
    name: "unsupported and deprecated options: docker's warnings; restart still converted",
    files: ["unsupported.yml"],
    check: (o) => {
      assert.deepEqual(o.warnings, [
        "Ignoring unsupported options: build, privileged, restart",
        "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported.\n" +
          "expose: Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
      ]);
      assert.deepEqual(task(svc(o, "web")).RestartPolicy, { Condition: "any" });
    },
  },
  {
    name: "forbidden options are refused",
    files: ["forbidden.yml"],
    error: /contains unsupported options:\n\nvolumes_from:/,
  },
  {
    name: "schema: wrong type and unknown key name file, service and key",
    files: ["invalid-key.yml"],
    error:
      /^validating invalid-key\.yml: services\.web\.deploy\.replicas must be a integer\nservices\.web\.deploy Additional property colour is not allowed$/,
  },
  {
    name: "schema: enum values",
    files: ["invalid-mode.yml"],
    error: /services\.web\.deploy\.mode must be one of the following: "replicated", "global"/,
  },
  {
    name: "undefined network",
    files: ["undefined-network.yml"],
    error: /^service web: undefined network "nowhere"$/,
  },
  {
    name: "undefined secret",
    files: ["undefined-secret.yml"],
    error: /^service web: undefined secret "missing"$/,
  },
  {
    name: "no image",
    files: ["no-image.yml"],
    error: /^invalid image reference for service web: no image specified$/,
  },
  {
    name: "depends_on: short and long syntax",
    files: ["depends.yml"],
    check: (o) => {
      assert.deepEqual(o.services.find((s) => s.name === "web")?.dependsOn, [
        { service: "api", condition: "service_healthy" },
      ]);
      assert.deepEqual(o.services.find((s) => s.name === "api")?.dependsOn, [
        { service: "db", condition: "service_started" },
      ]);
    },
  },
  { name: "depends_on cycle", files: ["cycle.yml"], error: /^dependency cycle: a -> b -> a$/ },
  {
    name: "compose v2 is refused",
    files: ["old-version.yml"],
    error: /unsupported Compose file version: 2\.4/,
  },
  {
    name: "misc container settings",
    files: ["misc.yml"],
    check: (o) => {
      const web = svc(o, "web");
      const c = container(web);
      assert.deepEqual(c.Command, ["/docker-entrypoint.sh"]);
      assert.equal(c.Hostname, "web-host");
      assert.equal(c.User, "101");
      assert.equal(c.Dir, "/srv");
      assert.equal(c.StopGracePeriod, 30e9);
      assert.equal(c.StopSignal, "SIGQUIT");
      assert.equal(c.TTY, true);
      assert.equal(c.ReadOnly, true);
      assert.equal(c.Init, true);
      assert.deepEqual(c.CapabilityAdd, ["NET_ADMIN"]);
      assert.deepEqual(c.DNSConfig, { Nameservers: ["8.8.8.8"] });
      assert.deepEqual(c.Hosts, ["10.0.0.5 db.local"]);
      assert.deepEqual(c.Ulimits, [
        { Name: "nofile", Soft: 1024, Hard: 2048 },
        { Name: "nproc", Soft: 65535, Hard: 65535 },
      ]);
      assert.deepEqual(c.Sysctls, { "net.core.somaxconn": "1024" });
      assert.deepEqual(task(web).LogDriver, { Name: "json-file", Options: { "max-size": "10m" } });
    },
  },
];

describe("stack: compose → stack objects", () => {
  for (const c of CASES) {
    it(c.name, () => {
      if (c.error) {
        assert.throws(
          () => deploy(c.files, c.env),
          (err: Error) => {
            assert.match(err.message, c.error as RegExp);
            return true;
          },
        );
      } else {
        c.check?.(deploy(c.files, c.env));
      }
    });
  }
});
