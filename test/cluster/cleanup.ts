/**
 * Removes what killed or crashed harness runs left on this machine: processes, mounts, network
 * namespaces, links, iptables rules, cgroups and state dirs of every harness instance whose owner
 * process is gone. Instances of running tests and `shoal up` clusters are left alone unless --all.
 *
 *   node --import tsx test/cluster/cleanup.ts            # leftovers of dead runs
 *   node --import tsx test/cluster/cleanup.ts --dry-run  # only list them
 *   node --import tsx test/cluster/cleanup.ts --all      # every instance, even of running tests
 *   node --import tsx test/cluster/cleanup.ts 17 42      # these instances (regardless of owner)
 *
 * Exits 1 if something could not be removed.
 */
import { pathToFileURL } from "node:url";
import { cleanup } from "../../src/devcluster/index.ts";

export { type CleanupReport, cleanup } from "../../src/devcluster/index.ts";

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
