/**
 * `shoal down`: removes a cluster made by `shoal up` (every process, namespace, link, mount,
 * cgroup, iptables rule and file of it) and its record. Nothing to remove is not an error.
 */
import { preflight, recordNames, removeCluster } from "../devcluster/index.ts";
import type { UpIo } from "./up.ts";

export function down(opts: { name: string; all?: boolean }, io: UpIo): void {
  preflight();
  const names = opts.all ? recordNames() : [opts.name];
  if (opts.all && names.length === 0) io.out("No clusters made by shoal up");
  for (const name of names) {
    const removed = removeCluster(name);
    io.out(
      removed.length > 0
        ? `Removed cluster "${name}" (instance ${removed.join(", ")})`
        : `No cluster "${name}" is up (nothing to remove)`,
    );
  }
}
