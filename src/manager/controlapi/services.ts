/**
 * Services: create, inspect, list and remove, as moby's `daemon/cluster/services.go` over
 * SwarmKit's `controlapi/service.go`. Updates are in service-update.ts.
 */

import type { Service, ServiceSpec } from "../../api/index.ts";
import { alreadyExists, timestamp } from "../../base/index.ts";
import type { ReadTx, WriteTx } from "../../store/types.ts";
import type { CoreDeps } from "./deps.ts";
import {
  type Filters,
  filterValues,
  labelFilterMap,
  matchesExact,
  matchesLabels,
  matchesPrefix,
  validateFilterKeys,
} from "./filters.ts";
import { resolveObject } from "./resolve.ts";
import { convertServiceSpec } from "./service-convert.ts";
import { randomServiceName } from "./service-defaults.ts";
import {
  checkPortConflicts,
  checkSecretsAndConfigs,
  refuseIngressAttachment,
  resolveNetworkTargets,
} from "./service-refs.ts";
import { modeOf, serviceStatus } from "./service-status.ts";
import { isJobSpec, validateServiceSpec } from "./service-validate.ts";
import { publicService, type StoredService, setRegistryAuth } from "./service-view.ts";
import { checkSpecNumbers } from "./spec-decode.ts";
import { rpcText } from "./swarm.ts";
import type { ServiceCreateResult, ServiceListOptions, ServiceReadOptions } from "./types.ts";

/** The stored service `input` names (full ID, exact name, unique ID prefix). */
export function resolveService(tx: ReadTx, input: string): StoredService {
  return resolveObject("service", input, tx.list("services"), (s) => [s.Spec?.Name]) as StoredService;
}

/**
 * moby's side of a create or update: numbers decodable, network names turned into IDs, the spec
 * converted (moby's round trip). Errors here come before "service X not found" on update.
 */
export function convertRequestedSpec(deps: CoreDeps, requested: ServiceSpec): ServiceSpec {
  checkSpecNumbers(requested);
  const copy = structuredClone(requested);
  deps.store.view((tx) => resolveNetworkTargets(tx, copy));
  return convertServiceSpec(copy, requested.Name ? "" : randomServiceName(deps.ids));
}

/** SwarmKit's side: its validation rules, then no explicit ingress attachment. */
export function validateConvertedSpec(deps: CoreDeps, spec: ServiceSpec): void {
  validateServiceSpec(spec);
  deps.store.view((tx) => refuseIngressAttachment(tx, spec));
}

/** SwarmKit's name index is case-insensitive: "Web" and "web" conflict. */
export function nameTaken(tx: ReadTx, name: string, selfId = ""): boolean {
  const wanted = name.toLowerCase();
  return tx.list("services").some((s) => s.ID !== selfId && (s.Spec?.Name ?? "").toLowerCase() === wanted);
}

export async function createService(
  deps: CoreDeps,
  requested: ServiceSpec,
  registryAuth?: string,
): Promise<ServiceCreateResult> {
  const spec = convertRequestedSpec(deps, requested);
  validateConvertedSpec(deps, spec);
  setRegistryAuth(spec, registryAuth);
  const now = timestamp(deps.clock);
  const service: StoredService = {
    ID: deps.ids.newId(),
    CreatedAt: now,
    UpdatedAt: now,
    Spec: spec,
    SpecVersion: { Index: 0 },
    ...(isJobSpec(spec) ? { JobStatus: { JobIteration: { Index: 0 }, LastExecution: now } } : {}),
  };
  await deps.store.update((tx) => {
    // Inside the transaction, so two creates racing for one port cannot both win.
    checkPortConflicts(tx, spec, "");
    checkSecretsAndConfigs(tx, spec);
    if (nameTaken(tx, spec.Name ?? "")) {
      throw alreadyExists(
        rpcText(
          "AlreadyExists",
          `name conflicts with an existing object: service ${spec.Name} already exists`,
        ),
      );
    }
    tx.create("services", service);
  });
  return { ID: service.ID };
}

export function getService(deps: CoreDeps, input: string, opts: ServiceReadOptions = {}): Service {
  const stored = deps.store.view((tx) => resolveService(tx, input));
  return publicService(stored, opts);
}

const SERVICE_FILTERS = ["name", "id", "label", "mode", "runtime"];

export function listServices(
  deps: CoreDeps,
  filters: Filters = {},
  opts: ServiceListOptions = {},
): Service[] {
  validateFilterKeys(filters, SERVICE_FILTERS);
  const names = filterValues(filters, "name");
  const ids = filterValues(filters, "id");
  const labels = labelFilterMap(filterValues(filters, "label"));
  const modes = filterValues(filters, "mode");
  const runtimes = filterValues(filters, "runtime");
  // moby lists container services unless another runtime is asked for; shoal has no other.
  const runtimeOk = matchesExact("container", runtimes.length > 0 ? runtimes : ["container"]);
  return deps.store.view((tx) =>
    tx
      .list("services")
      .filter(
        (s) =>
          runtimeOk &&
          matchesPrefix(s.Spec?.Name ?? "", names) &&
          matchesPrefix(s.ID, ids) &&
          matchesLabels(s.Spec?.Labels, labels) &&
          matchesExact(modeOf(s.Spec), modes),
      )
      .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
      .map((s) => {
        const view = publicService(s);
        if (opts.status) view.ServiceStatus = serviceStatus(tx, s);
        return view;
      }),
  );
}

/**
 * Deletes the service and marks its tasks for removal (DesiredState `remove`, as SwarmKit's
 * orchestrators do on the delete event); the agents stop them and the task reaper deletes them.
 */
export async function removeService(deps: CoreDeps, input: string): Promise<void> {
  const removed = await deps.store.update((tx) => {
    const service = resolveService(tx, input);
    tx.delete("services", service.ID);
    return service.ID;
  });
  // Its tasks go to desired "remove" in batches (one transaction may write only so many objects).
  // Should one of these writes lose a race, the task reaper deletes tasks of a deleted service anyway.
  const tasks = deps.store.view((tx) => tx.lookup("tasks", "service", removed));
  const units = tasks
    .filter((t) => t.DesiredState !== "remove")
    .map((t) => (tx: WriteTx) => {
      const current = tx.get("tasks", t.ID);
      if (current && current.DesiredState !== "remove") {
        tx.update("tasks", { ...current, DesiredState: "remove", UpdatedAt: timestamp(deps.clock) });
      }
    });
  if (units.length > 0) await deps.store.batch(units);
}
