import { describe, test } from "node:test";
import type { ServiceSpec } from "../../api/index.ts";
import { ErrorCode } from "../../base/index.ts";
import { updateService } from "./service-update.ts";
import { goFloat } from "./service-validate.ts";
import { createService } from "./services.ts";
import { addNetwork, basicSpec, makeDeps, rejects } from "./test-support.ts";

const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`;
const invalid = (desc: string) => rpc("InvalidArgument", desc);

type Case = [name: string, spec: ServiceSpec, code: ErrorCode, message: string];

const withTask = (patch: Partial<NonNullable<ServiceSpec["TaskTemplate"]>>): ServiceSpec => {
  const spec = basicSpec("web");
  spec.TaskTemplate = { ...spec.TaskTemplate, ...patch };
  return spec;
};
const withContainer = (patch: Record<string, unknown>): ServiceSpec =>
  withTask({ ContainerSpec: { Image: "busybox:latest", ...patch } });
const IA = ErrorCode.InvalidArgument;

const cases: Case[] = [
  ["name with a dot", basicSpec("a.b"), IA, invalid("name must be valid as a DNS name component")],
  ["name starting with a dash", basicSpec("-web"), IA, invalid("name must be valid as a DNS name component")],
  ["name of 64 characters", basicSpec("a".repeat(64)), IA, invalid("name must be 63 characters or fewer")],
  [
    "negative replicas",
    basicSpec("web", { Mode: { Replicated: { Replicas: -1 } } }),
    IA,
    "invalid JSON: json: cannot unmarshal number -1 into Go struct field ReplicatedService.Mode.Replicated.Replicas of type uint64",
  ],
  [
    "two modes",
    basicSpec("web", { Mode: { Replicated: { Replicas: 1 }, Global: {} } }),
    IA,
    "must specify only one service mode",
  ],
  [
    "missing image",
    withContainer({ Image: "" }),
    IA,
    invalid("ContainerSpec: image reference must be provided"),
  ],
  [
    "uppercase image",
    withContainer({ Image: "BusyBox" }),
    IA,
    invalid('ContainerSpec: "BusyBox" is not a valid repository/tag'),
  ],
  ["no container spec", withTask({ ContainerSpec: undefined }), IA, "mismatched Runtime and *Spec fields"],
  ["unknown runtime", withTask({ Runtime: "attachment" }), IA, "unsupported runtime"],
  [
    "negative restart delay",
    withTask({ RestartPolicy: { Condition: "any", Delay: -1 } }),
    IA,
    invalid("TaskSpec: restart-delay cannot be negative"),
  ],
  [
    "negative restart window",
    withTask({ RestartPolicy: { Window: -5 } }),
    IA,
    invalid("TaskSpec: restart-window cannot be negative"),
  ],
  [
    "unknown restart condition",
    withTask({ RestartPolicy: { Condition: "sometimes" as "any" } }),
    IA,
    'invalid RestartCondition: "sometimes"',
  ],
  [
    "fractional duration",
    withTask({ RestartPolicy: { Delay: 1.5 } }),
    IA,
    "invalid JSON: json: cannot unmarshal number 1.5 into Go struct field RestartPolicy.TaskTemplate.RestartPolicy.Delay of type time.Duration",
  ],
  [
    "cpu below a millicpu",
    withTask({ Resources: { Limits: { NanoCPUs: 500 } } }),
    IA,
    invalid("invalid cpu value 5e-07: Must be at least 0.001"),
  ],
  [
    "memory below 4MiB",
    withTask({ Resources: { Reservations: { MemoryBytes: 1024 } } }),
    IA,
    invalid("invalid memory value 1024: Must be at least 4MiB"),
  ],
  [
    "constraint without operator",
    withTask({ Placement: { Constraints: ["node.role"] } }),
    ErrorCode.Internal,
    rpc("Unknown", "constraint expected one operator from ==, !="),
  ],
  [
    "constraint with a bad key",
    withTask({ Placement: { Constraints: ["node role==manager"] } }),
    ErrorCode.Internal,
    rpc("Unknown", "key 'node role' is invalid"),
  ],
  [
    "update delay negative",
    basicSpec("web", { UpdateConfig: { Delay: -1 } }),
    IA,
    invalid("TaskSpec: update-delay cannot be negative"),
  ],
  [
    "update failure ratio above 1",
    basicSpec("web", { UpdateConfig: { MaxFailureRatio: 1.5 } }),
    IA,
    invalid("TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1"),
  ],
  [
    "unknown failure action",
    basicSpec("web", { UpdateConfig: { FailureAction: "explode" as "pause" } }),
    IA,
    "unrecognized update failure action explode",
  ],
  [
    "unknown update order",
    basicSpec("web", { UpdateConfig: { Order: "random" as "stop-first" } }),
    IA,
    "unrecognized update order random",
  ],
  [
    "job with an update config",
    basicSpec("web", { Mode: { ReplicatedJob: {} }, UpdateConfig: { Parallelism: 1 } }),
    IA,
    invalid("Jobs may not have an update config"),
  ],
  [
    "unknown endpoint mode",
    basicSpec("web", { EndpointSpec: { Mode: "round-robin" as "vip" } }),
    IA,
    'invalid resolution mode: "round-robin"',
  ],
  [
    "dnsrr with an ingress port",
    basicSpec("web", { EndpointSpec: { Mode: "dnsrr", Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }),
    IA,
    invalid("EndpointSpec: port published with ingress mode can't be used with dnsrr mode"),
  ],
  [
    "duplicate published ports",
    basicSpec("web", {
      EndpointSpec: {
        Ports: [
          { TargetPort: 80, PublishedPort: 8080 },
          { TargetPort: 81, PublishedPort: 8080 },
        ],
      },
    }),
    IA,
    invalid("EndpointSpec: duplicate published ports provided"),
  ],
  [
    "duplicate mount targets",
    withContainer({
      Mounts: [
        { Type: "volume", Source: "a", Target: "/data" },
        { Type: "bind", Source: "/b", Target: "/data" },
      ],
    }),
    IA,
    invalid("ContainerSpec: duplicate mount point: /data"),
  ],
  [
    "unknown mount type",
    withContainer({ Mounts: [{ Type: "nfs", Target: "/x" }] }),
    IA,
    'invalid MountType: "nfs"',
  ],
  [
    "healthcheck interval below 1ms",
    withContainer({ Healthcheck: { Test: ["CMD", "true"], Interval: 10 } }),
    IA,
    invalid("ContainerSpec: Interval in HealthConfig cannot be less than 1ms"),
  ],
  [
    "secret reference without a name",
    withContainer({ Secrets: [{ SecretID: "abc", File: { Name: "x" } }] }),
    IA,
    invalid("malformed secret reference"),
  ],
  [
    "secret that does not exist",
    withContainer({ Secrets: [{ SecretID: "abc", SecretName: "pw", File: { Name: "pw" } }] }),
    IA,
    invalid("secret not found: pw"),
  ],
  [
    "unknown network",
    withTask({ Networks: [{ Target: "backend" }] }),
    ErrorCode.NotFound,
    "network backend not found",
  ],
  [
    "the ingress network named explicitly",
    withTask({ Networks: [{ Target: "ingress" }] }),
    IA,
    invalid('Service cannot be explicitly attached to the ingress network "ingress"'),
  ],
  [
    "a drain period that is no duration",
    basicSpec("web", { Labels: { "io.shoal.drain-period": "soon" } }),
    IA,
    'invalid label io.shoal.drain-period=soon: time: invalid duration "soon" (e.g. 5s, 500ms, 0s)',
  ],
  [
    "a drain period without a unit",
    basicSpec("web", { Labels: { "io.shoal.drain-period": "5" } }),
    IA,
    'invalid label io.shoal.drain-period=5: time: missing unit in duration "5" (e.g. 5s, 500ms, 0s)',
  ],
  [
    "a negative drain period",
    basicSpec("web", { Labels: { "io.shoal.drain-period": "-1s" } }),
    IA,
    "invalid label io.shoal.drain-period=-1s: must not be negative",
  ],
];

describe("service spec validation (Swarm's messages)", () => {
  for (const [name, spec, code, message] of cases) {
    test(name, async () => {
      const deps = makeDeps();
      await addNetwork(deps, "ingressnetid0000000000000", "ingress", true);
      await rejects(() => createService(deps, spec), code, message);
    });
  }
});

test("a valid drain period is accepted at create; a bad one is refused at update", async () => {
  const deps = makeDeps();
  const created = await createService(
    deps,
    basicSpec("web", { Labels: { "io.shoal.drain-period": "1m30s" } }),
  );
  const spec = basicSpec("web", { Labels: { "io.shoal.drain-period": "2x" } });
  const version = deps.store.view((tx) => tx.get("services", created.ID)?.Version?.Index ?? 0);
  await rejects(
    () => updateService(deps, created.ID, version, spec),
    IA,
    'invalid label io.shoal.drain-period=2x: time: unknown unit "x" in duration "2x" (e.g. 5s, 500ms, 0s)',
  );
});

test("Go's %g for the cpu message", () => {
  const cases: Array<[number, string]> = [
    [0.0005, "0.0005"],
    [1e-9, "1e-09"],
    [5e-7, "5e-07"],
  ];
  for (const [x, want] of cases) {
    if (goFloat(x) !== want) throw new Error(`goFloat(${x}) = ${goFloat(x)}, want ${want}`);
  }
});
