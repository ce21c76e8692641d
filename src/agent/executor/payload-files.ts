/**
 * Secrets and configs as files in a container, after moby (`container.SecretMounts`,
 * `getSecretTargetPath`, `getConfigTargetPath`, `setupSecretDir`): each file reference becomes one
 * file in the task's in-memory directory, bind-mounted read-only at its target. A secret's relative
 * target goes under /run/secrets, a config's under /; an absolute target is used as it is. Configs
 * with a Runtime target (credential specs) are not files and are skipped.
 */
import type { Mount } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";
import type { TaskPayloads } from "../secrets/payloads.ts";
import type { ContainerSpec } from "./spec.ts";
import type { TaskFile } from "./task-files.ts";

export const SECRET_MOUNT_PATH = "/run/secrets";
export const CONFIG_MOUNT_PATH = "/";

/** One payload file a task needs: what to read, where it goes, with which owner and mode. */
export interface PlannedFile {
  kind: "secret" | "config";
  id: string;
  /** The secret or config name, for messages. */
  objectName: string;
  /** File name in the task's directory. */
  name: string;
  /** Absolute path inside the container. */
  target: string;
  uid: number;
  gid: number;
  mode: number;
}

const join = (base: string, name: string): string =>
  name.startsWith("/") ? name : `${base.replace(/\/$/, "")}/${name}`;

/** moby's strconv.Atoi on the reference's UID/GID ("" means 0, as the CLI's default). */
function numeric(what: string, value: string | undefined): number {
  const v = value ?? "";
  if (v === "") return 0;
  if (!/^[0-9]+$/.test(v)) throw invalidArgument(`invalid ${what} ${JSON.stringify(v)}: must be a number`);
  return Number(v);
}

type FileTarget = { Name?: string; UID?: string; GID?: string; Mode?: number } | undefined;

function plan(
  kind: PlannedFile["kind"],
  i: number,
  id: string,
  objectName: string,
  f: FileTarget,
  base: string,
): PlannedFile {
  return {
    kind,
    id,
    objectName,
    name: `${kind}-${i}`,
    target: join(base, f?.Name || objectName),
    uid: numeric(`${kind} UID`, f?.UID),
    gid: numeric(`${kind} GID`, f?.GID),
    mode: f?.Mode ?? 0o444,
  };
}

/** The files a container spec asks for, in reference order. */
export function plannedFiles(spec: ContainerSpec): PlannedFile[] {
  const out: PlannedFile[] = [];
  (spec.Secrets ?? []).forEach((r, i) => {
    if (r.File) out.push(plan("secret", i, r.SecretID ?? "", r.SecretName ?? "", r.File, SECRET_MOUNT_PATH));
  });
  (spec.Configs ?? []).forEach((r, i) => {
    if (r.File) out.push(plan("config", i, r.ConfigID ?? "", r.ConfigName ?? "", r.File, CONFIG_MOUNT_PATH));
  });
  return out;
}

/** Read-only bind mounts of the planned files from the task's directory. */
export function payloadMounts(files: readonly PlannedFile[], dir: string): Mount[] {
  return files.map((f) => ({ Type: "bind", Source: `${dir}/${f.name}`, Target: f.target, ReadOnly: true }));
}

/**
 * The files with their data, from the task's restricted view. A payload the node does not hold is
 * an error naming it (never its data): the task is rejected, as moby's "unable to get secret".
 */
export function materialize(files: readonly PlannedFile[], payloads: TaskPayloads | undefined): TaskFile[] {
  return files.map((f) => {
    const data = f.kind === "secret" ? payloads?.secret(f.id) : payloads?.config(f.id);
    if (!data)
      throw invalidArgument(
        `unable to get ${f.kind} ${f.objectName} (${f.id}) from the node's ${f.kind} store`,
      );
    return { name: f.name, data, uid: f.uid, gid: f.gid, mode: f.mode };
  });
}
