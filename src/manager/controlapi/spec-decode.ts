/**
 * Numbers moby would fail to decode. The Engine API's Go types hold replica counts, ports and the
 * ForceUpdate counter as unsigned integers and durations as int64 nanoseconds, so a negative
 * replica count never reaches SwarmKit: the JSON decoder refuses the body with 400 `invalid JSON:
 * json: cannot unmarshal number -1 into Go struct field ...`. This reproduces that for the fields
 * a client can plausibly get wrong.
 */
import type { ServiceSpec } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";

type GoType = "uint64" | "uint32" | "int64" | "time.Duration";

interface Field {
  /** Go struct holding the field, and the JSON path from the request root. */
  where: string;
  type: GoType;
  value: unknown;
}

function decodeError(f: Field, got: string): Error {
  return invalidArgument(
    `invalid JSON: json: cannot unmarshal ${got} into Go struct field ${f.where} of type ${f.type}`,
  );
}

function check(f: Field): void {
  const v = f.value;
  if (v === undefined || v === null) return;
  if (typeof v !== "number")
    throw decodeError(f, typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : "object");
  const unsigned = f.type === "uint64" || f.type === "uint32";
  if (!Number.isInteger(v) || (unsigned && v < 0)) throw decodeError(f, `number ${v}`);
}

/** Throws the decoder's error for the first field moby could not decode. */
export function checkSpecNumbers(spec: ServiceSpec): void {
  const t = spec.TaskTemplate;
  const fields: Field[] = [
    {
      where: "ReplicatedService.Mode.Replicated.Replicas",
      type: "uint64",
      value: spec.Mode?.Replicated?.Replicas,
    },
    {
      where: "ReplicatedJob.Mode.ReplicatedJob.MaxConcurrent",
      type: "uint64",
      value: spec.Mode?.ReplicatedJob?.MaxConcurrent,
    },
    {
      where: "ReplicatedJob.Mode.ReplicatedJob.TotalCompletions",
      type: "uint64",
      value: spec.Mode?.ReplicatedJob?.TotalCompletions,
    },
    { where: "TaskSpec.TaskTemplate.ForceUpdate", type: "uint64", value: t?.ForceUpdate },
    {
      where: "Placement.TaskTemplate.Placement.MaxReplicas",
      type: "uint64",
      value: t?.Placement?.MaxReplicas,
    },
    {
      where: "RestartPolicy.TaskTemplate.RestartPolicy.Delay",
      type: "time.Duration",
      value: t?.RestartPolicy?.Delay,
    },
    {
      where: "RestartPolicy.TaskTemplate.RestartPolicy.Window",
      type: "time.Duration",
      value: t?.RestartPolicy?.Window,
    },
    {
      where: "RestartPolicy.TaskTemplate.RestartPolicy.MaxAttempts",
      type: "uint64",
      value: t?.RestartPolicy?.MaxAttempts,
    },
    {
      where: "ContainerSpec.TaskTemplate.ContainerSpec.StopGracePeriod",
      type: "time.Duration",
      value: t?.ContainerSpec?.StopGracePeriod,
    },
    { where: "UpdateConfig.UpdateConfig.Parallelism", type: "uint64", value: spec.UpdateConfig?.Parallelism },
    { where: "UpdateConfig.UpdateConfig.Delay", type: "time.Duration", value: spec.UpdateConfig?.Delay },
    { where: "UpdateConfig.UpdateConfig.Monitor", type: "time.Duration", value: spec.UpdateConfig?.Monitor },
    {
      where: "UpdateConfig.RollbackConfig.Parallelism",
      type: "uint64",
      value: spec.RollbackConfig?.Parallelism,
    },
    ...(spec.EndpointSpec?.Ports ?? []).flatMap((p): Field[] => [
      { where: "PortConfig.EndpointSpec.Ports.TargetPort", type: "uint32", value: p.TargetPort },
      { where: "PortConfig.EndpointSpec.Ports.PublishedPort", type: "uint32", value: p.PublishedPort },
    ]),
  ];
  for (const f of fields) check(f);
}
