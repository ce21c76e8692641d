/**
 * Where `shoal up` remembers its clusters: one directory per cluster name under
 * /var/lib/shoal/devcluster, holding `cluster.json` (which instance, its shape) and `docker.sock`,
 * a symlink to the first manager's Engine API socket, so DOCKER_HOST stays the same across
 * `shoal down` / `shoal up`. The cluster itself lives in its instance's state dir (/tmp/shc<idx>);
 * this record is what lets `shoal down` find it from any later shell.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const DEVCLUSTER_STATE_ROOT = "/var/lib/shoal/devcluster";

export interface UpRecord {
  name: string;
  /** The instance: network 172.16.<idx>.0/24, state dir /tmp/shc<idx>. */
  idx: number;
  nodes: number;
  managers: number;
  /** ISO time the instance was created (matches its manifest's `created`). */
  created: string;
  /** `unix://<stable socket>`, the line `shoal up` prints. */
  dockerHost: string;
}

export const recordDir = (name: string, root = DEVCLUSTER_STATE_ROOT): string => join(root, name);
export const socketLink = (name: string, root = DEVCLUSTER_STATE_ROOT): string =>
  join(recordDir(name, root), "docker.sock");

export function readRecord(name: string, root = DEVCLUSTER_STATE_ROOT): UpRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(recordDir(name, root), "cluster.json"), "utf8")) as UpRecord;
  } catch {
    return undefined;
  }
}

/** Writes the record and points the stable socket at `target` (both replaced atomically). */
export function writeRecord(rec: UpRecord, target: string, root = DEVCLUSTER_STATE_ROOT): void {
  const dir = recordDir(rec.name, root);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "cluster.json");
  writeFileSync(`${file}.new`, `${JSON.stringify(rec, null, 2)}\n`);
  renameSync(`${file}.new`, file);
  const link = socketLink(rec.name, root);
  rmSync(`${link}.new`, { force: true });
  symlinkSync(target, `${link}.new`);
  renameSync(`${link}.new`, link);
}

export function removeRecord(name: string, root = DEVCLUSTER_STATE_ROOT): void {
  rmSync(recordDir(name, root), { recursive: true, force: true });
}

/** Names of every recorded cluster. */
export function recordNames(root = DEVCLUSTER_STATE_ROOT): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
