/**
 * SwarmKit's ServiceSpec validation (`controlapi/service.go validateServiceSpec`), run on the spec
 * after conversion, in SwarmKit's order, with its messages as moby passes them through gRPC
 * (`rpc error: code = InvalidArgument desc = ...`, HTTP 400).
 */
import { DRAIN_PERIOD_LABEL, drainPeriodOf, type ServiceSpec, type TaskSpec } from "../../api/index.ts";
import { internal, invalidArgument, type ShoalError } from "../../base/index.ts";
import { parseConstraints } from "../common/constraint.ts";
import { isValidImageReference } from "./image-ref.ts";
import { rpcText } from "./swarm.ts";

type ContainerSpec = NonNullable<TaskSpec["ContainerSpec"]>;
type HealthConfig = {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
};

const DNS_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
const MIN_DURATION_NS = 1_000_000;

export const invalid = (desc: string): ShoalError => invalidArgument(rpcText("InvalidArgument", desc));

/** Throws the first problem SwarmKit would report for this (converted) spec. */
export function validateServiceSpec(spec: ServiceSpec): void {
  validateServiceName(spec.Name ?? "");
  validateTaskSpec(spec.TaskTemplate ?? {});
  const jobs = isJobSpec(spec);
  if (jobs && spec.UpdateConfig) throw invalid("Jobs may not have an update config");
  if (!jobs) validateUpdate(spec.UpdateConfig);
  validateEndpoint(spec);
  validateShoalLabels(spec);
}

/** shoal's own service labels (after Swarm's rules, whose errors come first). */
function validateShoalLabels(spec: ServiceSpec): void {
  const drain = drainPeriodOf(spec.Labels);
  if (!drain.ok) {
    const value = spec.Labels?.[DRAIN_PERIOD_LABEL] ?? "";
    throw invalidArgument(`invalid label ${DRAIN_PERIOD_LABEL}=${value}: ${drain.reason}`);
  }
}

export const isJobSpec = (spec: ServiceSpec): boolean => !!(spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob);

export function validateServiceName(name: string): void {
  if (name === "") throw invalid("meta: name must be provided");
  if (!DNS_NAME.test(name)) throw invalid("name must be valid as a DNS name component");
  if (name.length > 63) throw invalid("name must be 63 characters or fewer");
}

function validateTaskSpec(t: TaskSpec): void {
  for (const r of [t.Resources?.Limits, t.Resources?.Reservations]) validateResources(r);
  const rp = t.RestartPolicy;
  if ((rp?.Delay ?? 0) < 0) throw invalid("TaskSpec: restart-delay cannot be negative");
  if ((rp?.Window ?? 0) < 0) throw invalid("TaskSpec: restart-window cannot be negative");
  validatePlacement(t.Placement?.Constraints ?? []);
  const c = t.ContainerSpec;
  if (!c) throw invalid("TaskSpec: missing runtime");
  validateSecretRefs(c);
  validateConfigRefs(c);
  validateContainer(c);
}

function validateResources(r: { NanoCPUs?: number; MemoryBytes?: number } | undefined): void {
  const cpus = r?.NanoCPUs ?? 0;
  if (cpus !== 0 && cpus < 1e6)
    throw invalid(`invalid cpu value ${goFloat(cpus / 1e9)}: Must be at least 0.001`);
  const mem = r?.MemoryBytes ?? 0;
  if (mem !== 0 && mem < 4 * 1024 * 1024) throw invalid(`invalid memory value ${mem}: Must be at least 4MiB`);
}

/** A constraint syntax error is a plain error in SwarmKit, so gRPC reports it as Unknown (500). */
function validatePlacement(constraints: readonly string[]): void {
  try {
    parseConstraints(constraints);
  } catch (err) {
    throw internal(rpcText("Unknown", err instanceof Error ? err.message : String(err)), err);
  }
}

function validateSecretRefs(c: ContainerSpec): void {
  const targets = new Map<string, string>();
  for (const ref of c.Secrets ?? []) {
    if (!ref.SecretID || !ref.SecretName) throw invalid("malformed secret reference");
    if (!ref.File) throw invalid("malformed secret reference, no target provided");
    const file = ref.File.Name ?? "";
    if (file === "") throw invalid("malformed file secret reference, invalid target file name provided");
    const prev = targets.get(file);
    if (prev !== undefined) {
      throw invalid(
        `secret references '${prev}' and '${ref.SecretName}' have a conflicting target: '${file}'`,
      );
    }
    targets.set(file, ref.SecretName);
  }
}

function validateConfigRefs(c: ContainerSpec): void {
  const credSpecConfig = c.Privileges?.CredentialSpec?.Config ?? "";
  let credSpecFound = false;
  const targets = new Map<string, string>();
  for (const ref of c.Configs ?? []) {
    if (!ref.ConfigID || !ref.ConfigName) throw invalid("malformed config reference");
    if (!ref.File && !ref.Runtime) throw invalid("malformed config reference, no target provided");
    if (ref.File) {
      const file = ref.File.Name ?? "";
      if (file === "") throw invalid("malformed file config reference, invalid target file name provided");
      const prev = targets.get(file);
      if (prev !== undefined) {
        throw invalid(
          `config references '${prev}' and '${ref.ConfigName}' have a conflicting target: '${file}'`,
        );
      }
      targets.set(file, ref.ConfigName);
    }
    if (ref.Runtime && ref.ConfigID === credSpecConfig) credSpecFound = true;
  }
  if (credSpecConfig !== "" && !credSpecFound) {
    throw invalid(
      `CredentialSpec references config '${credSpecConfig}', but that config isn't in config references with RuntimeTarget`,
    );
  }
}

function validateContainer(c: ContainerSpec): void {
  const image = c.Image ?? "";
  if (image === "") throw invalid("ContainerSpec: image reference must be provided");
  if (!isValidImageReference(image)) throw invalid(`ContainerSpec: "${image}" is not a valid repository/tag`);
  const seen = new Set<string>();
  for (const m of c.Mounts ?? []) {
    const target = m.Target ?? "";
    if (seen.has(target)) throw invalid(`ContainerSpec: duplicate mount point: ${target}`);
    seen.add(target);
  }
  validateHealthCheck(healthOf(c));
}

/** moby's JSON field is `Healthcheck`; the v1.41 swagger spells it `HealthCheck`. Accept both. */
export function healthOf(c: ContainerSpec): HealthConfig | undefined {
  return (c as { Healthcheck?: HealthConfig }).Healthcheck ?? c.HealthCheck;
}

function validateHealthCheck(hc: HealthConfig | undefined): void {
  if (!hc) return;
  for (const key of ["Interval", "Timeout", "StartPeriod", "StartInterval"] as const) {
    const v = hc[key] ?? 0;
    if (v !== 0 && v < MIN_DURATION_NS)
      throw invalid(`ContainerSpec: ${key} in HealthConfig cannot be less than 1ms`);
  }
  if ((hc.Retries ?? 0) < 0) throw invalid("ContainerSpec: Retries in HealthConfig cannot be negative");
}

function validateUpdate(u: ServiceSpec["UpdateConfig"]): void {
  if (!u) return;
  if ((u.Delay ?? 0) < 0) throw invalid("TaskSpec: update-delay cannot be negative");
  if ((u.Monitor ?? 0) < 0) throw invalid("TaskSpec: update-monitor cannot be negative");
  const ratio = u.MaxFailureRatio ?? 0;
  if (ratio < 0 || ratio > 1)
    throw invalid("TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1");
}

function validateEndpoint(spec: ServiceSpec): void {
  const ep = spec.EndpointSpec;
  if (!ep) return;
  const seen = new Set<string>();
  for (const p of ep.Ports ?? []) {
    if (ep.Mode === "dnsrr" && p.PublishMode === "ingress") {
      throw invalid("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
    }
    if (!p.PublishedPort) continue;
    const key = `${p.Protocol}/${p.PublishedPort}`;
    if (seen.has(key)) throw invalid("EndpointSpec: duplicate published ports provided");
    seen.add(key);
  }
}

/** Go's `%g` for the small values the cpu message prints (1e-09, 0.0005). */
export function goFloat(x: number): string {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp >= -4 && exp < 6) return String(x);
  const [mant, e] = x.toExponential().split("e");
  const n = Number(e);
  return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
}
