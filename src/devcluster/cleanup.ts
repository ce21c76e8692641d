/**
 * Removes what killed or crashed cluster runs left on this machine: processes, mounts, network
 * namespaces, links, iptables rules, cgroups and state dirs of every instance whose owner process
 * is gone. Instances of running tests and the persistent clusters of `shoal up` are left alone
 * unless `all` (or their number is given). test/cluster/cleanup.ts is its command line.
 */
import { statSync } from "node:fs";
import { layout } from "./layout.ts";
import { discoverInstances, leftovers, ownerAlive, readManifest, teardownSync } from "./teardown.ts";

export interface CleanupReport {
  idx: number;
  action: "removed" | "in use" | "would remove" | "failed";
  detail: string[];
}

/** A state dir younger than this without a manifest belongs to a harness being created. */
const CLAIM_GRACE_MS = 60_000;

function inUse(idx: number): string | undefined {
  const l = layout(idx);
  const m = readManifest(l);
  if (m?.persistent)
    return `the local cluster "${m.name}" of shoal up (shoal down --name ${m.name} removes it)`;
  if (m) return ownerAlive(m) ? `owned by running pid ${m.ownerPid} (${m.name})` : undefined;
  try {
    if (Date.now() - statSync(l.dir).mtimeMs < CLAIM_GRACE_MS) return "being created (no manifest yet)";
  } catch {
    // no dir: residue only
  }
  return undefined;
}

export function cleanup(
  opts: { all?: boolean; dryRun?: boolean; only?: readonly number[] } = {},
): CleanupReport[] {
  const reports: CleanupReport[] = [];
  const targets = opts.only && opts.only.length > 0 ? [...opts.only] : discoverInstances();
  for (const idx of targets) {
    const busy = opts.all || (opts.only && opts.only.length > 0) ? undefined : inUse(idx);
    if (busy) {
      reports.push({ idx, action: "in use", detail: [busy] });
      continue;
    }
    const found = leftovers(idx);
    if (opts.dryRun) {
      reports.push({ idx, action: "would remove", detail: found });
      continue;
    }
    const problems = teardownSync(idx);
    reports.push({
      idx,
      action: problems.length === 0 ? "removed" : "failed",
      detail: problems.length ? problems : found,
    });
  }
  return reports;
}
