/**
 * `POST /services/{id}/update`: the body replaces the spec (moby's UpdateService over SwarmKit's).
 * The old spec becomes PreviousSpec and UpdateStatus is reset, so a waiting CLI never sees the
 * last rollout's "completed"; `rollback=previous` swaps PreviousSpec back in instead. The version
 * the caller read must still be current ("update out of sequence" otherwise).
 */

import type { ServiceSpec } from "../../api/index.ts";
import {
  ErrorCode,
  failedPrecondition,
  internal,
  notFound,
  ShoalError,
  timestamp,
} from "../../base/index.ts";
import type { WriteTx } from "../../store/types.ts";
import { specsEqual } from "../common/spec.ts";
import type { CoreDeps } from "./deps.ts";
import { checkPortConflicts, checkSecretsAndConfigs } from "./service-refs.ts";
import { modeOf } from "./service-status.ts";
import { registryAuthOf, type StoredService, setRegistryAuth } from "./service-view.ts";
import { convertRequestedSpec, resolveService, validateConvertedSpec } from "./services.ts";
import { rpcText } from "./swarm.ts";
import type { ServiceUpdateOptions, ServiceUpdateResult } from "./types.ts";

const unimplemented = (desc: string): ShoalError =>
  new ShoalError(ErrorCode.NotImplemented, rpcText("Unimplemented", desc));

function parseRollback(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "none") return false;
  if (value === "previous") return true;
  throw internal(`unrecognized rollback option ${value}`);
}

/** moby keeps the stored credentials unless a new X-Registry-Auth header came with the update. */
function carryRegistryAuth(spec: ServiceSpec, current: StoredService, opts: ServiceUpdateOptions): void {
  if (opts.registryAuth) {
    setRegistryAuth(spec, opts.registryAuth);
    return;
  }
  const from = opts.registryAuthFrom ?? "";
  if (from === "" || from === "spec") {
    setRegistryAuth(spec, registryAuthOf(current.Spec));
  } else if (from === "previous-spec") {
    if (!current.PreviousSpec) throw internal("service does not have a previous spec");
    setRegistryAuth(spec, registryAuthOf(current.PreviousSpec));
  } else {
    throw internal("unsupported registryAuthFrom value");
  }
}

export async function updateService(
  deps: CoreDeps,
  input: string,
  version: number,
  requested: ServiceSpec,
  opts: ServiceUpdateOptions = {},
): Promise<ServiceUpdateResult> {
  const spec = convertRequestedSpec(deps, requested);
  const current = deps.store.view((tx) => resolveService(tx, input));
  carryRegistryAuth(spec, current, opts);
  const rollback = parseRollback(opts.rollback);
  validateConvertedSpec(deps, spec);
  await deps.store.update((tx) => {
    const service = tx.get("services", current.ID) as StoredService | undefined;
    if (!service) throw notFound(rpcText("NotFound", `service ${current.ID} not found`));
    checkAgainstStored(tx, service, spec);
    tx.update("services", nextService(deps, service, spec, version, rollback));
  });
  return { Warnings: null };
}

function checkAgainstStored(tx: WriteTx, service: StoredService, spec: ServiceSpec): void {
  if (spec.EndpointSpec && !specsEqual(spec.EndpointSpec, service.Spec?.EndpointSpec)) {
    checkPortConflicts(tx, spec, service.ID);
  }
  checkSecretsAndConfigs(tx, spec);
  // The orchestrators are stateless about modes: changing one means delete and re-create.
  if (modeOf(service.Spec) !== modeOf(spec)) throw unimplemented("service mode change is not allowed");
  if (service.Spec?.Name !== spec.Name) throw unimplemented("renaming services is not supported");
}

function nextService(
  deps: CoreDeps,
  service: StoredService,
  spec: ServiceSpec,
  version: number,
  rollback: boolean,
): StoredService {
  const now = timestamp(deps.clock);
  const next: StoredService = { ...structuredClone(service), Version: { Index: version }, UpdatedAt: now };
  if (next.JobStatus) {
    // Every update of a job runs it again: a new iteration.
    next.JobStatus = {
      JobIteration: { Index: (next.JobStatus.JobIteration?.Index ?? 0) + 1 },
      LastExecution: now,
    };
  }
  if (rollback) {
    if (!service.PreviousSpec) {
      throw failedPrecondition(
        rpcText("FailedPrecondition", `service ${service.ID} does not have a previous spec`),
      );
    }
    next.Spec = structuredClone(service.PreviousSpec);
    next.SpecVersion = service.PreviousSpecVersion;
    next.PreviousSpec = structuredClone(service.Spec);
    next.PreviousSpecVersion = service.SpecVersion;
    next.UpdateStatus = { State: "rollback_started", Message: "manually requested rollback", StartedAt: now };
  } else {
    next.PreviousSpec = structuredClone(service.Spec);
    next.PreviousSpecVersion = service.SpecVersion;
    next.Spec = spec;
    // Tasks made from this spec carry this version; equal versions mean "not dirty".
    next.SpecVersion = { Index: version };
    next.UpdateStatus = null;
  }
  return next;
}
