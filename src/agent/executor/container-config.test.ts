import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SwarmTask } from "../../api/index.ts";
import { ShoalError } from "../../base/index.ts";
import { type ContainerCreateBody, containerCreateRequest } from "./container-config.ts";
import type { ContainerSpec, TaskEnvironment } from "./spec.ts";

const env: TaskEnvironment = {
  service: { ID: "svc1", Name: "web", Labels: { tier: "front", "com.example.x": "y" } },
  node: { ID: "node1", Hostname: "vm1", Platform: { Architecture: "x86_64", OS: "linux" } },
};

function task(spec: ContainerSpec, extra: Partial<SwarmTask> = {}): SwarmTask {
  return {
    ID: "task1",
    ServiceID: "svc1",
    NodeID: "node1",
    Slot: 3,
    DesiredState: "running",
    Status: { State: "assigned" },
    Spec: { ContainerSpec: { Image: "busybox:local", ...spec } },
    ...extra,
  };
}

const body = (spec: ContainerSpec, extra: Partial<SwarmTask> = {}, e = env): ContainerCreateBody =>
  containerCreateRequest(task(spec, extra), e).body;

describe("container name and labels", () => {
  test("replicated: <service>.<slot>.<taskid>", () => {
    assert.equal(containerCreateRequest(task({}), env).name, "web.3.task1");
  });
  test("global (no slot): <service>.<nodeid>.<taskid>", () => {
    assert.equal(containerCreateRequest(task({}, { Slot: 0 }), env).name, "web.node1.task1");
  });
  test("an annotation name from the orchestrator wins", () => {
    assert.equal(containerCreateRequest(task({}, { Name: "custom" }), env).name, "custom");
  });
  test("system labels override spec and task labels", () => {
    const b = body(
      { Labels: { a: "1", "com.docker.swarm.task.id": "forged" } },
      { Labels: { b: "2", a: "task-wins" } },
    );
    assert.deepEqual(b.Labels, {
      a: "task-wins",
      b: "2",
      "com.docker.swarm.task": "",
      "com.docker.swarm.task.id": "task1",
      "com.docker.swarm.task.name": "web.3.task1",
      "com.docker.swarm.node.id": "node1",
      "com.docker.swarm.service.id": "svc1",
      "com.docker.swarm.service.name": "web",
    });
  });
});

describe("Config fields", () => {
  const cases: Array<[string, ContainerSpec, Partial<ContainerCreateBody>]> = [
    ["image gets :latest", { Image: "nginx" }, { Image: "nginx:latest" }],
    [
      "image keeps a digest",
      { Image: `nginx@sha256:${"a".repeat(64)}` },
      { Image: `nginx@sha256:${"a".repeat(64)}` },
    ],
    ["docker.io/library is dropped", { Image: "docker.io/library/redis:7" }, { Image: "redis:7" }],
    ["registry port is not a tag", { Image: "127.0.0.1:5000/app" }, { Image: "127.0.0.1:5000/app:latest" }],
    ["Args alone → Cmd", { Args: ["sleep", "1"] }, { Cmd: ["sleep", "1"] }],
    [
      "Command → Entrypoint, Args → Cmd",
      { Command: ["sh", "-c"], Args: ["echo hi"] },
      { Entrypoint: ["sh", "-c"], Cmd: ["echo hi"] },
    ],
    ["Env", { Env: ["A=1", "B"] }, { Env: ["A=1", "B"] }],
    ["Dir → WorkingDir", { Dir: "/srv" }, { WorkingDir: "/srv" }],
    ["User", { User: "nobody" }, { User: "nobody" }],
    ["Hostname", { Hostname: "h" }, { Hostname: "h" }],
    ["TTY → Tty", { TTY: true }, { Tty: true }],
    ["OpenStdin", { OpenStdin: true }, { OpenStdin: true }],
    ["StopSignal", { StopSignal: "SIGINT" }, { StopSignal: "SIGINT" }],
    ["StopGracePeriod → StopTimeout (s)", { StopGracePeriod: 2_500_000_000 }, { StopTimeout: 2 }],
    [
      "Healthcheck",
      { Healthcheck: { Test: ["CMD-SHELL", "wget -qO- localhost/"], Interval: 1e9, Retries: 2 } },
      { Healthcheck: { Test: ["CMD-SHELL", "wget -qO- localhost/"], Interval: 1e9, Retries: 2 } },
    ],
    [
      "HealthCheck (spec spelling)",
      { HealthCheck: { Test: ["CMD", "true"] } },
      { Healthcheck: { Test: ["CMD", "true"] } },
    ],
    ["--no-healthcheck", { Healthcheck: { Test: ["NONE"] } }, { Healthcheck: { Test: ["NONE"] } }],
  ];
  for (const [name, spec, want] of cases) {
    test(name, () => {
      const b = body(spec);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(b[k as keyof ContainerCreateBody], v, k);
    });
  }
  test("unset fields are left out", () => {
    const b = body({});
    for (const k of [
      "Cmd",
      "Entrypoint",
      "Env",
      "WorkingDir",
      "User",
      "Hostname",
      "Tty",
      "StopTimeout",
      "Healthcheck",
    ]) {
      assert.equal(k in b, false, k);
    }
  });
  test("generic resources → DOCKER_RESOURCE_*", () => {
    const b = body(
      { Env: ["A=1"] },
      {
        AssignedGenericResources: [
          { NamedResourceSpec: { Kind: "gpu", Value: "g0" } },
          { NamedResourceSpec: { Kind: "gpu", Value: "g1" } },
          { DiscreteResourceSpec: { Kind: "ssd", Value: 2 } },
        ],
      },
    );
    assert.deepEqual(b.Env, ["A=1", "DOCKER_RESOURCE_GPU=g0,g1", "DOCKER_RESOURCE_SSD=2"]);
  });
  test("host-mode ports are exposed and bound; ingress ones are not", () => {
    const e: TaskEnvironment = {
      ...env,
      service: {
        ...env.service,
        Ports: [
          { TargetPort: 80, PublishedPort: 8080, PublishMode: "host", Protocol: "tcp" },
          { TargetPort: 53, PublishMode: "host", Protocol: "udp" },
          { TargetPort: 443, PublishedPort: 30000, PublishMode: "ingress" },
        ],
      },
    };
    const b = body({}, {}, e);
    assert.deepEqual(b.ExposedPorts, { "80/tcp": {}, "53/udp": {} });
    assert.deepEqual(b.HostConfig.PortBindings, { "80/tcp": [{ HostPort: "8080" }], "53/udp": [{}] });
  });
});

describe("HostConfig fields", () => {
  const cases: Array<[string, ContainerSpec, Partial<SwarmTask>, Record<string, unknown>]> = [
    ["restart policy is always no", {}, {}, { RestartPolicy: { Name: "no" }, NetworkMode: "bridge" }],
    ["Groups → GroupAdd", { Groups: ["wheel"] }, {}, { GroupAdd: ["wheel"] }],
    ["Init", { Init: true }, {}, { Init: true }],
    ["Init false is kept", { Init: false }, {}, { Init: false }],
    ["ReadOnly → ReadonlyRootfs", { ReadOnly: true }, {}, { ReadonlyRootfs: true }],
    ["Isolation", { Isolation: "default" }, {}, { Isolation: "default" }],
    [
      "Sysctls",
      { Sysctls: { "net.core.somaxconn": "1024" } },
      {},
      { Sysctls: { "net.core.somaxconn": "1024" } },
    ],
    [
      "CapabilityAdd/Drop",
      { CapabilityAdd: ["CAP_NET_ADMIN"], CapabilityDrop: ["CAP_MKNOD"] },
      {},
      { CapAdd: ["CAP_NET_ADMIN"], CapDrop: ["CAP_MKNOD"] },
    ],
    [
      "Ulimits",
      { Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }] },
      {},
      { Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }] },
    ],
    [
      "Hosts → ExtraHosts host:ip",
      { Hosts: ["10.0.0.1 db alias", "::1  local6", "bad"] },
      {},
      { ExtraHosts: ["db:10.0.0.1", "local6:::1"] },
    ],
    [
      "DNSConfig",
      { DNSConfig: { Nameservers: ["1.1.1.1"], Search: ["example.org"], Options: ["ndots:2"] } },
      {},
      { Dns: ["1.1.1.1"], DnsSearch: ["example.org"], DnsOptions: ["ndots:2"] },
    ],
    [
      "limits → Memory, NanoCpus, PidsLimit; reservation → MemoryReservation",
      {},
      {
        Spec: {
          ContainerSpec: { Image: "busybox:local" },
          Resources: {
            Limits: { NanoCPUs: 5e8, MemoryBytes: 64 << 20, Pids: 50 },
            Reservations: { MemoryBytes: 32 << 20, NanoCPUs: 1e8 },
          },
        },
      },
      { Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 50, MemoryReservation: 32 << 20 },
    ],
    [
      "LogDriver → LogConfig",
      {},
      {
        Spec: {
          ContainerSpec: { Image: "busybox:local" },
          LogDriver: { Name: "json-file", Options: { "max-size": "1m" } },
        },
      },
      { LogConfig: { Type: "json-file", Config: { "max-size": "1m" } } },
    ],
    [
      "Privileges → SecurityOpt",
      {
        Privileges: {
          SELinuxContext: { Disable: true, User: "u", Role: "r", Level: "l", Type: "t" },
          CredentialSpec: { File: "spec.json" },
          NoNewPrivileges: true,
          Seccomp: { Mode: "unconfined" },
          AppArmor: { Mode: "disabled" },
        },
      },
      {},
      {
        SecurityOpt: [
          "credentialspec=file://spec.json",
          "label=disable",
          "label=user:u",
          "label=role:r",
          "label=level:l",
          "label=type:t",
          "seccomp=unconfined",
          "apparmor=unconfined",
          "no-new-privileges=true",
        ],
      },
    ],
    [
      "Mounts: bind, volume with options, tmpfs",
      {
        Mounts: [
          {
            Type: "bind",
            Source: "/srv",
            Target: "/data",
            ReadOnly: true,
            BindOptions: { Propagation: "rslave" },
          },
          {
            Type: "volume",
            Source: "vol",
            Target: "/v",
            VolumeOptions: {
              NoCopy: true,
              Labels: { a: "b" },
              DriverConfig: { Name: "local", Options: { o: "bind" } },
            },
          },
          { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } },
        ],
      },
      {},
      {
        Mounts: [
          {
            Type: "bind",
            Source: "/srv",
            Target: "/data",
            ReadOnly: true,
            BindOptions: { Propagation: "rslave" },
          },
          {
            Type: "volume",
            Source: "vol",
            Target: "/v",
            VolumeOptions: {
              NoCopy: true,
              Labels: { a: "b" },
              DriverConfig: { Name: "local", Options: { o: "bind" } },
            },
          },
          { Type: "tmpfs", Source: "", Target: "/tmp", TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } },
        ],
      },
    ],
  ];
  for (const [name, spec, extra, want] of cases) {
    test(name, () => {
      const hc = body(spec, extra).HostConfig as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(hc[k], v, k);
    });
  }
  test("networks: the first is the network mode with its endpoint settings", () => {
    const b = body(
      {},
      {},
      {
        ...env,
        networks: [{ name: "ov1", id: "n1", addresses: ["10.0.0.7/24"], aliases: ["web"] }, { name: "ov2" }],
      },
    );
    assert.equal(b.HostConfig.NetworkMode, "ov1");
    assert.deepEqual(b.NetworkingConfig, {
      EndpointsConfig: {
        ov1: {
          NetworkID: "n1",
          IPAMConfig: { IPv4Address: "10.0.0.7", IPv6Address: undefined },
          Aliases: ["web"],
        },
      },
    });
  });
});

describe("templates and validation", () => {
  test("hostname, env values and mounts are expanded", () => {
    const b = body({
      Hostname: "{{.Service.Name}}-{{.Task.Slot}}.{{.Node.Hostname}}",
      Env: [
        "{{.Keep}}=x",
        "ID={{.Task.ID}}",
        "NAME={{.Task.Name}}",
        "NODE={{.Node.ID}}",
        "SVC={{.Service.ID}}",
        'T={{index .Service.Labels "tier"}}',
      ],
      Mounts: [{ Type: "volume", Source: "data-{{.Task.Slot}}", Target: "/d/{{.Service.Name}}" }],
    });
    assert.equal(b.Hostname, "web-3.vm1");
    assert.deepEqual(b.Env, [
      "{{.Keep}}=x",
      "ID=task1",
      "NAME=web.3.task1",
      "NODE=node1",
      "SVC=svc1",
      "T=front",
    ]);
    assert.deepEqual(b.HostConfig.Mounts?.[0], { Type: "volume", Source: "data-3", Target: "/d/web" });
  });
  const rejects: Array<[string, ContainerSpec, RegExp]> = [
    ["no image", { Image: "" }, /image required/],
    [
      "relative mount target",
      { Mounts: [{ Type: "volume", Source: "v", Target: "rel" }] },
      /must be an absolute path: rel/,
    ],
    [
      "relative bind source",
      { Mounts: [{ Type: "bind", Source: "rel", Target: "/x" }] },
      /invalid bind mount source/,
    ],
    [
      "absolute volume source",
      { Mounts: [{ Type: "volume", Source: "/abs", Target: "/x" }] },
      /invalid volume mount source/,
    ],
    [
      "tmpfs with a source",
      { Mounts: [{ Type: "tmpfs", Source: "x", Target: "/x" }] },
      /invalid tmpfs source/,
    ],
    [
      "unsupported template",
      { Hostname: '{{printf "%s" .Task.ID}}' },
      /expanding hostname failed: .*unsupported action/,
    ],
    ["unknown field", { Env: ["A={{.Task.Nope}}"] }, /expanding env failed: .*can't evaluate field Nope/],
  ];
  for (const [name, spec, re] of rejects) {
    test(`rejects: ${name}`, () => {
      assert.throws(
        () => body(spec),
        (err: unknown) => ShoalError.is(err, "InvalidArgument") && re.test((err as Error).message),
      );
    });
  }
  test("a task without a container spec is unsupported", () => {
    assert.throws(() => containerCreateRequest({ ID: "t", Spec: {} }, env), /unsupported runtime/);
  });
});
