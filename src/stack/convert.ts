/**
 * The loaded compose model → every object a deploy of stack `namespace` creates or references
 * (docker/cli's `compose/convert/compose.go` + `service.go`), with shoal's `depends_on` order.
 */
import { convertService } from "./convert-service.ts";
import { ConvertError, compact, withStackLabel } from "./convert-util.ts";
import {
  type DependsCondition,
  isObject,
  type Json,
  type JsonObject,
  type LoadOptions,
  type StackObjects,
  type StackService,
} from "./types.ts";

function section(model: JsonObject, key: string): JsonObject {
  const v = model[key];
  return isObject(v) ? v : {};
}

function networksOf(
  namespace: string,
  model: JsonObject,
): Pick<StackObjects, "networks" | "externalNetworks"> {
  const declared = section(model, "networks");
  const used = new Set<string>();
  for (const svc of Object.values(section(model, "services"))) {
    const nets = isObject(svc) && isObject(svc.networks) ? Object.keys(svc.networks) : [];
    if (nets.length === 0) used.add("default");
    for (const n of nets) used.add(n);
  }
  const networks: StackObjects["networks"] = [];
  const externalNetworks: string[] = [];
  for (const key of [...used].sort()) {
    const n: JsonObject = isObject(declared[key]) ? (declared[key] as JsonObject) : {};
    if (n.external === true) {
      externalNetworks.push(typeof n.name === "string" ? n.name : key);
      continue;
    }
    let ipam: Json | undefined;
    const i = isObject(n.ipam) ? n.ipam : undefined;
    if (i && (typeof i.driver === "string" || (Array.isArray(i.config) && i.config.length > 0))) {
      ipam = compact({
        Driver: typeof i.driver === "string" ? i.driver : undefined,
        Config: Array.isArray(i.config)
          ? i.config.filter(isObject).map((c) => compact({ Subnet: c.subnet as string | undefined }))
          : undefined,
      });
    }
    const options = isObject(n.driver_opts)
      ? Object.fromEntries(Object.entries(n.driver_opts).map(([k, v]) => [k, String(v)]))
      : undefined;
    networks.push({
      name: typeof n.name === "string" ? n.name : `${namespace}_${key}`,
      create: compact({
        Labels: withStackLabel(namespace, n.labels),
        Driver: typeof n.driver === "string" && n.driver !== "" ? n.driver : "overlay",
        Options: options,
        Internal: n.internal === true ? true : undefined,
        Attachable: n.attachable === true ? true : undefined,
        IPAM: ipam,
      }),
    });
  }
  return { networks, externalNetworks };
}

function payloads(
  namespace: string,
  model: JsonObject,
  kind: "secrets" | "configs",
  opts: LoadOptions,
): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [key, raw] of Object.entries(section(model, kind)).sort(([a], [b]) => a.localeCompare(b))) {
    const o = isObject(raw) ? raw : {};
    if (o.external === true) continue;
    const name = typeof o.name === "string" ? o.name : `${namespace}_${key}`;
    let data = "";
    if (kind === "secrets" && typeof o.driver === "string") {
      data = "";
    } else if (typeof o.file === "string") {
      try {
        data = opts.readFile(o.file).toString("base64");
      } catch (err) {
        throw new ConvertError(`${kind.slice(0, -1)} ${key}: ${(err as Error).message}`);
      }
    } else {
      throw new ConvertError(`${kind.slice(0, -1)} ${key}: a file or external is required`);
    }
    out.push(
      compact({
        Name: name,
        Labels: withStackLabel(namespace, o.labels),
        Data: data,
        Driver:
          kind === "secrets" && typeof o.driver === "string"
            ? compact({ Name: o.driver, Options: isObject(o.driver_opts) ? o.driver_opts : undefined })
            : undefined,
        Templating: typeof o.template_driver === "string" ? { Name: o.template_driver } : undefined,
      }),
    );
  }
  return out;
}

function dependencies(name: string, svc: JsonObject, all: JsonObject): StackService["dependsOn"] {
  const deps = isObject(svc.depends_on) ? svc.depends_on : {};
  return Object.entries(deps).map(([dep, cfg]) => {
    if (!isObject(all[dep])) throw new ConvertError(`service ${name} depends on undefined service "${dep}"`);
    const condition = (
      isObject(cfg) && typeof cfg.condition === "string" ? cfg.condition : "service_started"
    ) as DependsCondition;
    return { service: dep, condition };
  });
}

/** Services in an order where each comes after what it depends on; a cycle is an error. */
export function dependencyOrder(services: readonly StackService[]): StackService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: StackService[] = [];
  const visit = (s: StackService, path: string[]): void => {
    if (done.has(s.name)) return;
    if (visiting.has(s.name)) throw new ConvertError(`dependency cycle: ${[...path, s.name].join(" -> ")}`);
    visiting.add(s.name);
    for (const d of s.dependsOn) visit(byName.get(d.service) as StackService, [...path, s.name]);
    visiting.delete(s.name);
    done.add(s.name);
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}

/** Converts a loaded model; errors name the service (`service web: undefined network "x"`). */
export function convertStack(namespace: string, model: JsonObject, opts: LoadOptions): StackObjects {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(namespace)) {
    throw new ConvertError(`invalid stack name "${namespace}"`);
  }
  const all = section(model, "services");
  const services: StackService[] = [];
  for (const [name, raw] of Object.entries(all).sort(([a], [b]) => a.localeCompare(b))) {
    const svc = isObject(raw) ? raw : {};
    try {
      if (typeof svc.image !== "string" || svc.image === "") {
        throw new ConvertError(`invalid image reference for service ${name}: no image specified`);
      }
      services.push({
        name,
        spec: convertService(namespace, name, svc, model),
        dependsOn: dependencies(name, svc, all),
      });
    } catch (err) {
      if (err instanceof ConvertError && !err.message.startsWith("invalid image")) {
        throw new ConvertError(`service ${name}: ${err.message}`);
      }
      throw err instanceof ConvertError
        ? err
        : new ConvertError(`service ${name}: ${(err as Error).message}`);
    }
  }
  dependencyOrder(services);
  return {
    namespace,
    ...networksOf(namespace, model),
    secrets: payloads(namespace, model, "secrets", opts),
    configs: payloads(namespace, model, "configs", opts),
    services,
  };
}
