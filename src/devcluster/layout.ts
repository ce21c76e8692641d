/**
 * Where every piece of one harness instance lives. An instance is identified by a small number
 * `idx` (0..255) claimed at creation; every name, path, address and cgroup derives from it, so a
 * run killed half-way can be cleaned up from `idx` alone (cleanup.ts).
 *
 *   state dir   /tmp/shc<idx>/            manifest.json, image.tar, registry/, logs/, n<i>/ (a private
 *                                         bind mount of itself, so namespace files can be bound in it)
 *   bridge      shcb<idx>                 172.16.<idx>.254/24 in the root network namespace
 *   node i      netns shc<idx>n<i>        eth0 = 172.16.<idx>.<i>/24, veth peer shc<idx>v<i> on the bridge
 *               n<i>/uts, n<i>/mnt        its UTS (hostname) and mount namespaces, kept by bind mounts
 *   cgroups     /shoalc<idx>/...          n<i>/daemons (containerd, dockerd, shims), n<i>/shoal (shoal,
 *                                         its etcd), n<i>/<container id> (dockerd --cgroup-parent), registry
 *
 * 172.16.0.0/16 is private and outside every default pool of Docker (bridges: 172.17-31/16 and
 * 192.168/16 in /20s) and of Swarm (10.0.0.0/8), so no network a test creates can collide with it.
 */
import { join } from "node:path";

export const STATE_PREFIX = "/tmp/shc";
export const NETNS_DIR = "/var/run/netns";
export const CGROUP_PREFIX = "shoalc";
export const NET_PREFIX = "172.16";
export const MAX_INSTANCES = 256;
export const MAX_NODES = 200;
export const REGISTRY_PORT = 5000;

export interface NodeLayout {
  readonly index: number;
  readonly hostname: string;
  readonly netns: string;
  readonly netnsPath: string;
  readonly veth: string;
  readonly addr: string;
  readonly dir: string;
  readonly utsFile: string;
  readonly mntFile: string;
  /** Bind-mounted on /etc/docker in the node's mount namespace: its own key.json (engine ID). */
  readonly etcDocker: string;
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly dockerdConfig: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly dockerdSocket: string;
  readonly dockerdPidfile: string;
  readonly shoalDataDir: string;
  readonly shoalSocket: string;
  readonly logDir: string;
  /** cgroup of the node (relative to a hierarchy root); containers go below it. */
  readonly cgroup: string;
  readonly daemonsCgroup: string;
  readonly shoalCgroup: string;
}

export interface Layout {
  readonly idx: number;
  readonly dir: string;
  readonly manifest: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly prefix: string;
  readonly gateway: string;
  readonly cgroup: string;
  readonly registryCgroup: string;
  readonly registryDir: string;
  readonly registryAddr: string;
  readonly imageTar: string;
  readonly logDir: string;
  /** `iptables` rule specs (after the chain name) the harness adds in the root namespace. */
  readonly forwardRules: readonly (readonly string[])[];
}

export function layout(idx: number): Layout {
  if (!Number.isInteger(idx) || idx < 0 || idx >= MAX_INSTANCES) throw new Error(`bad instance index ${idx}`);
  const dir = `${STATE_PREFIX}${idx}`;
  const bridge = `shcb${idx}`;
  const prefix = `${NET_PREFIX}.${idx}`;
  const cgroup = `${CGROUP_PREFIX}${idx}`;
  return {
    idx,
    dir,
    manifest: join(dir, "manifest.json"),
    bridge,
    subnet: `${prefix}.0/24`,
    prefix,
    gateway: `${prefix}.254`,
    cgroup,
    registryCgroup: `${cgroup}/registry`,
    registryDir: join(dir, "registry"),
    registryAddr: `${prefix}.254:${REGISTRY_PORT}`,
    imageTar: join(dir, "image.tar"),
    logDir: join(dir, "logs"),
    forwardRules: [
      // the root dockerd sets FORWARD to DROP with bridge netfilter on: let the nodes talk...
      ["-i", bridge, "-o", bridge, "-j", "ACCEPT"],
      // ...and nothing else: the nodes' default route points at the bridge, traffic stops there
      ["-i", bridge, "!", "-o", bridge, "-j", "DROP"],
    ],
  };
}

export function nodeLayout(l: Layout, index: number, hostname: string): NodeLayout {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) throw new Error(`bad node index ${index}`);
  const dir = join(l.dir, `n${index}`);
  const netns = `shc${l.idx}n${index}`;
  const cgroup = `${l.cgroup}/n${index}`;
  return {
    index,
    hostname,
    netns,
    netnsPath: join(NETNS_DIR, netns),
    veth: `shc${l.idx}v${index}`,
    addr: `${l.prefix}.${index}`,
    dir,
    utsFile: join(dir, "uts"),
    mntFile: join(dir, "mnt"),
    etcDocker: join(dir, "etc-docker"),
    containerdConfig: join(dir, "containerd.toml"),
    containerdRoot: join(dir, "ctd"),
    containerdState: join(dir, "ctds"),
    containerdSocket: join(dir, "ctds", "c.sock"),
    dockerdConfig: join(dir, "daemon.json"),
    dataRoot: join(dir, "data"),
    execRoot: join(dir, "x"),
    dockerdSocket: join(dir, "docker.sock"),
    dockerdPidfile: join(dir, "dockerd.pid"),
    shoalDataDir: join(dir, "shoal"),
    shoalSocket: join(dir, "shoal.sock"),
    logDir: join(l.logDir, `n${index}`),
    cgroup,
    daemonsCgroup: `${cgroup}/daemons`,
    shoalCgroup: `${cgroup}/shoal`,
  };
}

/** The instance index a name belongs to, for names the harness makes; undefined otherwise. */
export function instanceOfName(kind: "netns" | "link" | "cgroup" | "dir", name: string): number | undefined {
  const re = {
    netns: /^shc(\d+)n\d+$/,
    link: /^shc(?:b(\d+)|(\d+)v\d+)$/,
    cgroup: new RegExp(`^${CGROUP_PREFIX}(\\d+)$`),
    dir: /^shc(\d+)$/,
  }[kind];
  const m = re.exec(name);
  if (!m) return undefined;
  const n = Number(m[1] ?? m[2]);
  return n < MAX_INSTANCES ? n : undefined;
}
