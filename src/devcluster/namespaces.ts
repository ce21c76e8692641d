/**
 * A node's own UTS and mount namespaces. The mount namespace is the host's minus what belongs to
 * other daemons, so a node never keeps another one's mounts alive and dockerd's mounts never leak
 * onto the host.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARIES } from "./daemon.ts";
import type { NodeLayout } from "./layout.ts";
import { must, parseMountinfo, run } from "./sys.ts";

const FOREIGN_DIRS = [
  "/var/lib/docker",
  "/run/docker",
  "/var/run/docker",
  "/run/containerd",
  "/var/run/netns",
  "/run/netns",
];

/** Mounts a node's mount namespace must not hold a copy of (see setupNamespaces). */
export function isForeignMount(mountPoint: string, fsType: string): boolean {
  if (fsType === "nsfs" || fsType === "overlay" || fsType === "aufs") return true;
  if (mountPoint.startsWith("/tmp/shc")) return true;
  return FOREIGN_DIRS.some((d) => mountPoint === d || mountPoint.startsWith(`${d}/`));
}

/**
 * Creates the node's UTS namespace (its hostname) and mount namespace, both kept by bind mounts on
 * files in the node dir. The mount namespace is the host's minus the mounts that belong to other
 * daemons (namespace files, overlays, docker/containerd state, other harness nodes: holding copies
 * of those would keep them alive), plus the node's own /etc/docker (key.json: its own engine ID).
 * dockerd's own mounts then never show up on the host and vanish with the node.
 */
export async function setupNamespaces(p: NodeLayout): Promise<void> {
  mkdirSync(p.etcDocker, { recursive: true });
  writeFileSync(p.utsFile, "");
  writeFileSync(p.mntFile, "");
  await must([
    BINARIES.unshare,
    `--uts=${p.utsFile}`,
    `--mount=${p.mntFile}`,
    "--propagation",
    "private",
    "hostname",
    p.hostname,
  ]);
  const inNs = [BINARIES.nsenter, `--mount=${p.mntFile}`, "--"];
  const info = await must([...inNs, "cat", "/proc/self/mountinfo"]);
  const foreign = parseMountinfo(info)
    .filter((m) => isForeignMount(m.mountPoint, m.fsType))
    .map((m) => m.mountPoint)
    .sort((a, b) => b.length - a.length);
  if (foreign.length > 0) await run([...inNs, BINARIES.umount, "-l", ...new Set(foreign)]);
  if (existsSync("/etc/docker")) await must([...inNs, "mount", "--bind", p.etcDocker, "/etc/docker"]);
  // a sysfs of the node's own netns (/sys/class/net lists the node's interfaces, as on a machine),
  // with the host's submounts (the cgroup hierarchies above all: dockerd needs them) carried over
  const underSys = parseMountinfo(info)
    .map((m) => m.mountPoint)
    .filter((m) => m.startsWith("/sys/"));
  const topLevel = [...new Set(underSys)].filter(
    (m) => !underSys.some((o) => o !== m && m.startsWith(`${o}/`)),
  );
  await must([
    BINARIES.nsenter,
    `--net=${p.netnsPath}`,
    `--mount=${p.mntFile}`,
    "--",
    "/bin/sh",
    "-ec",
    'old=$1; shift; mkdir -p "$old"; mount --rbind /sys "$old"; mount --make-rprivate "$old"; ' +
      'mount -t sysfs sysfs /sys; for m in "$@"; do [ -d "/sys/$m" ] && mount --rbind "$old/$m" "/sys/$m"; done; ' +
      'umount -l "$old"; rmdir "$old"',
    "sh",
    join(p.dir, "oldsys"),
    ...topLevel.map((m) => m.slice("/sys/".length)),
  ]);
}
