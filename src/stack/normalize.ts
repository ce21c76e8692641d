/**
 * Short syntaxes to long ones, per file and before merging (as docker/cli's loader transforms):
 * environment/labels lists → maps, `env_file` read in, command strings split, ports and volumes
 * short syntax → long objects, `secrets: [name]` → `{source}`, `networks: [a]` → `{a: null}`,
 * `depends_on: [a]` → `{a: {condition: service_started}}`, healthcheck `test` strings → CMD-SHELL.
 */
import { isAbsolute, resolve } from "node:path";
import { isObject, type Json, type JsonObject, type LoadOptions } from "./types.ts";
import { parseEnvFile, splitCommand } from "./units.ts";

export class ComposeNormalizeError extends Error {}

function scalarText(v: Json): string | null {
  if (v === null) return null;
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** `["A=1", "B"]` or `{A: 1, B: null}` → `{A: "1", B: null}`. */
export function toStringMap(value: Json | undefined, nullAs?: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item);
      const eq = text.indexOf("=");
      if (eq < 0) out[text] = nullAs ?? null;
      else out[text.slice(0, eq)] = text.slice(eq + 1);
    }
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = scalarText(v) ?? nullAs ?? null;
  }
  return out;
}

function expandRange(text: string): number[] {
  const [a, b] = text.split("-");
  const start = Number(a);
  const end = b === undefined ? start : Number(b);
  if (!Number.isInteger(start) || !Number.isInteger(end) || end < start) {
    throw new ComposeNormalizeError(`Invalid containerPort: ${text}`);
  }
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

/** `"8080:80/udp"`, `"127.0.0.1:8080:80"`, `"9000-9001:80-81"`, `80` → long port objects. */
export function parseShortPort(spec: string | number): JsonObject[] {
  const text = String(spec);
  const [addr, proto = "tcp"] = text.split("/") as [string, string?];
  const parts = addr.split(":");
  const target = parts[parts.length - 1] as string;
  const published = parts.length >= 2 ? (parts[parts.length - 2] as string) : "";
  const targets = expandRange(target);
  const publishedPorts = published === "" ? [] : expandRange(published);
  if (publishedPorts.length > 0 && publishedPorts.length !== targets.length && publishedPorts.length !== 1) {
    throw new ComposeNormalizeError(
      `Invalid ranges specified for container and host Ports: ${target} and ${published}`,
    );
  }
  return targets.map((t, i) => {
    const port: JsonObject = { mode: "ingress", target: t, protocol: proto };
    const p = publishedPorts.length === 1 ? publishedPorts[0] : publishedPorts[i];
    if (p !== undefined) port.published = p;
    return port;
  });
}

function hostPath(source: string, opts: LoadOptions): string {
  if (source.startsWith("~")) return `${opts.env.HOME ?? "~"}${source.slice(1)}`;
  return isAbsolute(source) ? source : resolve(opts.workingDir, source);
}

/** `"data:/var/lib/x:ro"`, `"./conf:/etc/conf"`, `"/cache"` → long volume objects. */
export function parseShortVolume(spec: string, opts: LoadOptions): JsonObject {
  const parts = spec.split(":");
  if (parts.length === 1) return { type: "volume", target: spec };
  if (parts.length > 3) throw new ComposeNormalizeError(`invalid spec: ${spec}: too many colons`);
  const [source, target, mode = ""] = parts as [string, string, string?];
  const isPath = /^[./~]/.test(source);
  const volume: JsonObject = isPath
    ? { type: "bind", source: hostPath(source, opts), target }
    : { type: "volume", source, target };
  for (const flag of mode.split(",").filter(Boolean)) {
    if (flag === "ro") volume.read_only = true;
    else if (flag === "nocopy") volume.volume = { nocopy: true };
    else if (["rprivate", "private", "rshared", "shared", "rslave", "slave"].includes(flag)) {
      volume.bind = { propagation: flag };
    }
  }
  return volume;
}

function normalizeService(name: string, input: JsonObject, opts: LoadOptions): JsonObject {
  const svc: JsonObject = { ...input };
  const envFiles = svc.env_file === undefined ? [] : ([] as Json[]).concat(svc.env_file);
  if (envFiles.length > 0 || svc.environment !== undefined) {
    const env: Record<string, string | null> = {};
    for (const f of envFiles) {
      const path = hostPath(String(f), opts);
      let text: string;
      try {
        text = opts.readFile(path).toString("utf8");
      } catch (err) {
        throw new ComposeNormalizeError(`service ${name}: env_file ${path}: ${(err as Error).message}`);
      }
      Object.assign(
        env,
        parseEnvFile(text, (k) => opts.env[k]),
      );
    }
    Object.assign(env, toStringMap(svc.environment));
    svc.environment = env;
    delete svc.env_file;
  }
  if (svc.labels !== undefined) svc.labels = toStringMap(svc.labels, "");
  if (isObject(svc.deploy) && svc.deploy.labels !== undefined) {
    svc.deploy = { ...svc.deploy, labels: toStringMap(svc.deploy.labels, "") };
  }
  for (const key of ["command", "entrypoint"]) {
    if (typeof svc[key] === "string") svc[key] = splitCommand(svc[key] as string);
  }
  for (const key of ["dns", "dns_search", "tmpfs"]) {
    if (typeof svc[key] === "string") svc[key] = [svc[key] as string];
  }
  if (Array.isArray(svc.ports)) {
    svc.ports = svc.ports.flatMap((p) => {
      if (isObject(p)) return [p.published === undefined ? p : { ...p, published: Number(p.published) }];
      return parseShortPort(p as string | number);
    });
  }
  if (Array.isArray(svc.volumes)) {
    svc.volumes = svc.volumes.map((v) => {
      if (typeof v === "string") return parseShortVolume(v, opts);
      const vol = v as JsonObject;
      if (vol.type === "bind" && typeof vol.source === "string")
        return { ...vol, source: hostPath(vol.source, opts) };
      return vol;
    });
  }
  for (const key of ["secrets", "configs"]) {
    const list = svc[key];
    if (Array.isArray(list)) svc[key] = list.map((s) => (typeof s === "string" ? { source: s } : s));
  }
  if (Array.isArray(svc.networks))
    svc.networks = Object.fromEntries(svc.networks.map((n) => [String(n), null]));
  if (Array.isArray(svc.depends_on)) {
    svc.depends_on = Object.fromEntries(
      svc.depends_on.map((d) => [String(d), { condition: "service_started" }]),
    );
  }
  if (isObject(svc.extra_hosts)) {
    svc.extra_hosts = Object.entries(svc.extra_hosts).map(([h, ip]) => `${h}:${String(ip)}`);
  }
  if (isObject(svc.healthcheck) && typeof svc.healthcheck.test === "string") {
    svc.healthcheck = { ...svc.healthcheck, test: ["CMD-SHELL", svc.healthcheck.test] };
  }
  return svc;
}

function normalizeFileObjects(section: Json | undefined, opts: LoadOptions): JsonObject | undefined {
  if (!isObject(section)) return undefined;
  const out: JsonObject = {};
  for (const [key, raw] of Object.entries(section)) {
    const o: JsonObject = isObject(raw) ? { ...raw } : {};
    if (o.labels !== undefined) o.labels = toStringMap(o.labels, "");
    if (typeof o.file === "string") o.file = hostPath(o.file, opts);
    if (o.external === true || isObject(o.external)) {
      const externalName = isObject(o.external) ? o.external.name : undefined;
      o.name = (externalName as string | undefined) ?? (o.name as string | undefined) ?? key;
      o.external = true;
    }
    out[key] = o;
  }
  return out;
}

/** One validated file → its normalised form (still unmerged). */
export function normalizeFile(config: JsonObject, opts: LoadOptions): JsonObject {
  const out: JsonObject = { ...config };
  if (isObject(config.services)) {
    out.services = Object.fromEntries(
      Object.entries(config.services).map(([name, s]) => [
        name,
        normalizeService(name, s as JsonObject, opts),
      ]),
    );
  }
  for (const key of ["networks", "volumes", "secrets", "configs"]) {
    const section = normalizeFileObjects(config[key], opts);
    if (section) out[key] = section;
  }
  return out;
}
