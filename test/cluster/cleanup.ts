/**
 * Removes what killed or crashed harness runs left on this machine: processes, mounts, network
 * namespaces, links, iptables rules, cgroups and state dirs of every harness instance whose owner
 * process is gone. Instances of running tests are left alone unless --all.
 *
 *   node --import tsx test/cluster/cleanup.ts            # leftovers of dead runs
 *   node --import tsx test/cluster/cleanup.ts --dry-run  # only list them
 *   node --import tsx test/cluster/cleanup.ts --all      # every instance, even of running tests
 *   node --import tsx test/cluster/cleanup.ts 17 42      # these instances (regardless of owner)
 *
 * Exits 1 if something could not be removed.
 */
import { statSync } from "node:fs";
import { pathToFileURL } from "node:url";
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

function main(argv: readonly string[]): number {
  if (process.getuid?.() !== 0) {
    process.stderr.write("cleanup.ts must run as root\n");
    return 1;
  }
  const only = argv.filter((a) => /^\d+$/.test(a)).map(Number);
  const reports = cleanup({ all: argv.includes("--all"), dryRun: argv.includes("--dry-run"), only });
  if (reports.length === 0) process.stdout.write("nothing to clean up\n");
  for (const r of reports) {
    process.stdout.write(`instance ${r.idx}: ${r.action}\n`);
    for (const d of r.detail) process.stdout.write(`  ${d}\n`);
  }
  return reports.some((r) => r.action === "failed") ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
