/**
 * `shoal secret rotate NAME FILE|-`: Swarm secrets are immutable, so rotating one means creating
 * the next version and moving every service that uses it over with a normal (rolling) service
 * update, each reference keeping its target, owner and mode. Versions are named `NAME`, `NAME.v2`,
 * `NAME.v3`, ...: the next version is one more than the highest that exists. Old versions are left
 * for the user to remove once the update finished (`docker secret rm NAME`), because tasks still
 * running the old spec use them until they are replaced. Only Engine API calls: it works against
 * any manager, and against Docker Swarm itself.
 */
import { readFileSync } from "node:fs";
import type { Secret, Service, ServiceSpec } from "../api/index.ts";
import { failedPrecondition, invalidArgument } from "../base/index.ts";
import { type EngineResponse, engineRequest, errorMessage } from "./engine-client.ts";

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The version number a name carries for `base` (the base itself is 1), or undefined if none. */
export function versionOf(base: string, name: string): number | undefined {
  if (name === base) return 1;
  const m = new RegExp(`^${escapeRegExp(base)}\\.v([0-9]+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Strips a `.vN` suffix: rotating `db.v3` continues the `db` series. */
export const baseName = (name: string): string => name.replace(/\.v[0-9]+$/, "");

/** `base.v<max+1>` over the versions that exist. */
export function nextVersionName(base: string, existing: readonly string[]): string {
  const max = Math.max(0, ...existing.map((n) => versionOf(base, n) ?? 0));
  return `${base}.v${Math.max(2, max + 1)}`;
}

/**
 * The spec with every reference to one of `oldIds` pointed at the new secret (same File target,
 * uid, gid and mode); undefined when the spec references none of them.
 */
export function repointSecret(
  spec: ServiceSpec,
  oldIds: ReadonlySet<string>,
  next: { ID: string; Name: string },
): ServiceSpec | undefined {
  const refs = spec.TaskTemplate?.ContainerSpec?.Secrets ?? [];
  if (!refs.some((r) => oldIds.has(r.SecretID ?? ""))) return undefined;
  const out = structuredClone(spec);
  const c = out.TaskTemplate?.ContainerSpec;
  if (c?.Secrets) {
    c.Secrets = c.Secrets.map((r) =>
      oldIds.has(r.SecretID ?? "") ? { ...r, SecretID: next.ID, SecretName: next.Name } : r,
    );
  }
  return out;
}

export interface RotateOptions {
  socket: string;
  name: string;
  /** A file path, or "-" for standard input. */
  source: string;
  readStdin?: () => Buffer;
}

export interface RotateResult {
  secretId: string;
  secretName: string;
  services: string[];
}

function must(res: EngineResponse, what: string): unknown {
  if (res.status >= 400) throw invalidArgument(`${what}: ${errorMessage(res)}`);
  return res.body;
}

const q = (filters: Record<string, string[]>): string =>
  encodeURIComponent(
    JSON.stringify(
      Object.fromEntries(
        Object.entries(filters).map(([k, vs]) => [k, Object.fromEntries(vs.map((v) => [v, true]))]),
      ),
    ),
  );

export async function rotateSecret(opts: RotateOptions): Promise<RotateResult> {
  const data =
    opts.source === "-" ? (opts.readStdin ?? (() => readFileSync(0)))() : readFileSync(opts.source);
  if (data.length === 0) throw invalidArgument("the new secret data is empty");
  const base = baseName(opts.name);
  const call = (method: string, path: string, body?: unknown) =>
    engineRequest(opts.socket, method, path, body);
  const listed = must(
    await call("GET", `/secrets?filters=${q({ name: [base] })}`),
    "listing secrets",
  ) as Secret[];
  const versions = listed.filter((s) => versionOf(base, s.Spec?.Name ?? "") !== undefined);
  if (versions.length === 0) throw failedPrecondition(`secret ${base} not found: nothing to rotate`);
  const latest = versions.reduce((a, b) =>
    (versionOf(base, a.Spec?.Name ?? "") ?? 0) >= (versionOf(base, b.Spec?.Name ?? "") ?? 0) ? a : b,
  );
  const name = nextVersionName(
    base,
    versions.map((s) => s.Spec?.Name ?? ""),
  );
  const created = must(
    await call("POST", "/secrets/create", {
      Name: name,
      Labels: { ...latest.Spec?.Labels },
      Data: data.toString("base64"),
    }),
    `creating secret ${name}`,
  ) as { ID: string };
  const oldIds = new Set(versions.map((s) => s.ID ?? ""));
  const services = must(await call("GET", "/services"), "listing services") as Service[];
  const updated: string[] = [];
  for (const svc of services) {
    const spec = svc.Spec && repointSecret(svc.Spec, oldIds, { ID: created.ID, Name: name });
    if (!spec) continue;
    const path = `/services/${svc.ID}/update?version=${svc.Version?.Index ?? 0}`;
    must(await call("POST", path, spec), `updating service ${svc.Spec?.Name}`);
    updated.push(svc.Spec?.Name ?? svc.ID ?? "");
  }
  return { secretId: created.ID, secretName: name, services: updated };
}
