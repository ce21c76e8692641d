/**
 * Secrets and configs: create, inspect, list, update (labels only) and remove, as moby's
 * `daemon/cluster/secrets.go`/`configs.go` over SwarmKit's `controlapi/secret.go`/`config.go`.
 * The two differ only in their size limit, filters, the Driver field, and that a secret's Data is
 * never returned: one implementation serves both. Data is stored as the base64 the client sent
 * (the store encrypts every value before it reaches etcd).
 */
import type { Config, ServiceSpec } from "../../api/index.ts";
import { alreadyExists, timestamp } from "../../base/index.ts";
import type { ReadTx, StoredObject } from "../../store/types.ts";
import type { CoreDeps } from "./deps.ts";
import { type Filters, filterValues, labelFilterMap, matchesLabels, validateFilterKeys } from "./filters.ts";
import { decodeData, type PayloadKind, type PayloadSpec, validatePayloadSpec } from "./payload-validate.ts";
import { resolveObject } from "./resolve.ts";
import { invalid } from "./service-validate.ts";
import { rpcText } from "./swarm.ts";

/** A stored secret or config (the secrets table's shape is the superset). */
export interface PayloadObject extends StoredObject {
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: PayloadSpec;
}

const TABLE = { secret: "secrets", config: "configs" } as const;

/** moby's accepted filter keys: configs have no `names`. */
const FILTER_KEYS: Readonly<Record<PayloadKind, readonly string[]>> = {
  secret: ["names", "name", "id", "label"],
  config: ["name", "id", "label"],
};

function all(tx: ReadTx, kind: PayloadKind): PayloadObject[] {
  return tx.list(TABLE[kind]) as PayloadObject[];
}

/** What the API shows: a secret never carries its Data; a config does. */
export function publicPayload(kind: PayloadKind, obj: PayloadObject): PayloadObject {
  const copy = structuredClone(obj);
  if (kind === "secret" && copy.Spec) delete copy.Spec.Data;
  return copy;
}

/** moby's getSecret/getConfig: full ID, exact name, unique ID prefix. */
export function resolvePayload(tx: ReadTx, kind: PayloadKind, input: string): PayloadObject {
  return resolveObject(kind, input, all(tx, kind), (o) => [o.Spec?.Name]);
}

/** SwarmKit's name index is case-insensitive. */
function nameTaken(tx: ReadTx, kind: PayloadKind, name: string): boolean {
  const wanted = name.toLowerCase();
  return all(tx, kind).some((o) => (o.Spec?.Name ?? "").toLowerCase() === wanted);
}

export async function createPayload(
  deps: CoreDeps,
  kind: PayloadKind,
  requested: PayloadSpec,
): Promise<{ ID: string }> {
  validatePayloadSpec(kind, requested);
  const spec: PayloadSpec = { Name: requested.Name, Labels: { ...requested.Labels }, Data: requested.Data };
  if (requested.Templating) spec.Templating = { ...requested.Templating };
  const now = timestamp(deps.clock);
  const obj: PayloadObject = { ID: deps.ids.newId(), CreatedAt: now, UpdatedAt: now, Spec: spec };
  await deps.store.update((tx) => {
    if (nameTaken(tx, kind, spec.Name ?? "")) {
      throw alreadyExists(rpcText("AlreadyExists", `${kind} ${spec.Name} already exists`));
    }
    tx.create(TABLE[kind], obj as Config & StoredObject);
  });
  return { ID: obj.ID };
}

export function getPayload(deps: CoreDeps, kind: PayloadKind, input: string): PayloadObject {
  return publicPayload(
    kind,
    deps.store.view((tx) => resolvePayload(tx, kind, input)),
  );
}

/**
 * SwarmKit's ListSecrets/ListConfigs: `names` (exact), `name` (prefix) and `id` (prefix) are OR-ed
 * (a match on any one of them), names compared without case as its index does; labels AND-ed.
 */
export function listPayloads(deps: CoreDeps, kind: PayloadKind, filters: Filters = {}): PayloadObject[] {
  validateFilterKeys(filters, FILTER_KEYS[kind]);
  const exact = filterValues(filters, "names").map((n) => n.toLowerCase());
  const prefixes = filterValues(filters, "name").map((n) => n.toLowerCase());
  const ids = filterValues(filters, "id");
  const labels = labelFilterMap(filterValues(filters, "label"));
  const anyBy = exact.length + prefixes.length + ids.length > 0;
  const selected = (o: PayloadObject): boolean => {
    if (!anyBy) return true;
    const name = (o.Spec?.Name ?? "").toLowerCase();
    return (
      exact.includes(name) || prefixes.some((p) => name.startsWith(p)) || ids.some((p) => o.ID.startsWith(p))
    );
  };
  return deps.store.view((tx) =>
    all(tx, kind)
      .filter((o) => selected(o) && matchesLabels(o.Spec?.Labels, labels))
      .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
      .map((o) => publicPayload(kind, o)),
  );
}

/** Payload bytes equal, compared without early exit (SwarmKit uses ConstantTimeCompare for secrets). */
function sameData(a: Buffer, b: Buffer): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Only Labels may change. A re-sent Data equal to the stored one is accepted (`stack deploy` sends
 * it on every run); a changed Data or Name is refused. A stale version → "update out of sequence".
 */
export async function updatePayload(
  deps: CoreDeps,
  kind: PayloadKind,
  input: string,
  version: number,
  requested: PayloadSpec,
): Promise<void> {
  const given =
    requested.Data === undefined || requested.Data === null ? undefined : decodeData(requested.Data);
  await deps.store.update((tx) => {
    const stored = resolvePayload(tx, kind, input);
    const changedData = given !== undefined && !sameData(given, decodeData(stored.Spec?.Data));
    if (stored.Spec?.Name !== requested.Name || changedData) {
      throw invalid("only updates to Labels are allowed");
    }
    const next: PayloadObject = {
      ...stored,
      Version: { Index: version },
      UpdatedAt: timestamp(deps.clock),
      Spec: { ...stored.Spec, Labels: { ...requested.Labels } },
    };
    tx.update(TABLE[kind], next as Config & StoredObject);
  });
}

/** The services whose current spec references the object (SwarmKit's ByReferencedSecretID/ConfigID). */
export function servicesUsing(tx: ReadTx, kind: PayloadKind, id: string): string[] {
  const uses = (spec: ServiceSpec | undefined): boolean => {
    const c = spec?.TaskTemplate?.ContainerSpec;
    if (kind === "secret") return (c?.Secrets ?? []).some((r) => r.SecretID === id);
    return (c?.Configs ?? []).some((r) => r.ConfigID === id);
  };
  return tx
    .list("services")
    .filter((s) => uses(s.Spec))
    .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
    .map((s) => s.Spec?.Name ?? "");
}

/** Refused while any service references it, with SwarmKit's text naming the services. */
export async function removePayload(deps: CoreDeps, kind: PayloadKind, input: string): Promise<void> {
  await deps.store.update((tx) => {
    const stored = resolvePayload(tx, kind, input);
    const users = servicesUsing(tx, kind, stored.ID);
    if (users.length > 0) {
      const noun = users.length === 1 ? "service" : "services";
      throw invalid(
        `${kind} '${stored.Spec?.Name ?? ""}' is in use by the following ${noun}: ${users.join(", ")}`,
      );
    }
    tx.delete(TABLE[kind], stored.ID);
  });
}
