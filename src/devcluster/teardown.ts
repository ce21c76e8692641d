/**
 * Finding and removing everything a harness instance made. Synchronous, idempotent, and driven by
 * the instance index alone (plus what is found on the machine), so it works after a crash, from a
 * process `exit` handler, and from cleanup.ts.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CGROUP_PREFIX, instanceOfName, type Layout, layout, NETNS_DIR, STATE_PREFIX } from "./layout.ts";
import {
  cgroupDirs,
  cgroupHierarchies,
  cgroupPids,
  killCgroupSync,
  mountsUnder,
  netnsInode,
  pidAlive,
  pidsInNetns,
  pidsWithArg,
  procCmdline,
  procStartTime,
  removeCgroupSync,
  runSync,
  unmountUnderSync,
} from "./sys.ts";

/** Written to <state dir>/manifest.json as soon as an instance is claimed. */
export interface Manifest {
  name: string;
  idx: number;
  nodes: number;
  ownerPid: number;
  ownerStart: string;
  created: string;
  /**
   * Made by `shoal up`: it outlives the process that created it and is removed only by `shoal
   * down` (cleanup.ts leaves it alone unless told its number or --all).
   */
  persistent?: boolean;
  /** The registry and the image pushed to it, once the cluster is up. */
  registry?: { addr: string; image: string; digest: string; ref: string };
}

export function readManifest(l: Layout): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(l.manifest, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

export function writeManifest(l: Layout, m: Manifest): void {
  writeFileSync(l.manifest, `${JSON.stringify(m, null, 2)}\n`);
}

/** True while the process that created the instance is still running. */
export function ownerAlive(m: Manifest): boolean {
  return pidAlive(m.ownerPid) && procStartTime(m.ownerPid) === m.ownerStart;
}

const listNetns = (): string[] => {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
};

const listLinks = (): string[] => {
  try {
    return readdirSync("/sys/class/net");
  } catch {
    return [];
  }
};

export const instanceNetns = (idx: number): string[] =>
  listNetns().filter((n) => instanceOfName("netns", n) === idx);

export const instanceLinks = (idx: number): string[] =>
  listLinks().filter((n) => instanceOfName("link", n) === idx);

function forwardRuleLines(l: Layout): string[] {
  const r = runSync(["iptables", "-w", "-S"]);
  if (r.code !== 0) return [];
  return r.stdout.split("\n").filter((line) => new RegExp(`(^| )(-i|-o) ${l.bridge}( |$)`).test(line));
}

/** Every process of the instance: its cgroups, anything inside its netns, anything naming its dir. */
function instancePids(l: Layout): number[] {
  const inodes = new Set<number>();
  for (const n of instanceNetns(l.idx)) {
    const ino = netnsInode(join(NETNS_DIR, n));
    if (ino !== undefined) inodes.add(ino);
  }
  return [...new Set([...cgroupPids(l.cgroup), ...pidsInNetns(inodes), ...pidsWithArg(`${l.dir}/`)])].filter(
    (p) => p !== process.pid,
  );
}

/** Sockets containerd-shim leaves in /run/containerd/s when it is killed (name: sha256 of address/ns/id). */
function shimSockets(l: Layout): string[] {
  const out: string[] = [];
  let nodes: string[] = [];
  try {
    nodes = readdirSync(l.dir).filter((e) => /^n\d+$/.test(e));
  } catch {
    return out;
  }
  for (const n of nodes) {
    const address = join(l.dir, n, "ctds", "c.sock");
    const tasks = join(l.dir, n, "ctds", "io.containerd.runtime.v2.task");
    let namespaces: string[] = [];
    try {
      namespaces = readdirSync(tasks);
    } catch {
      continue;
    }
    for (const ns of namespaces) {
      let ids: string[] = [];
      try {
        ids = readdirSync(join(tasks, ns));
      } catch {
        continue;
      }
      for (const id of ids) {
        const hash = createHash("sha256")
          .update(join(address, ns, id))
          .digest("hex");
        const sock = join("/run/containerd/s", hash);
        if (existsSync(sock)) out.push(sock);
      }
    }
  }
  return out;
}

/** Everything of instance `idx` still on the machine, one line each; empty when it is all gone. */
export function leftovers(idx: number): string[] {
  const l = layout(idx);
  const out: string[] = [];
  for (const p of instancePids(l)) out.push(`process ${p} (${procCmdline(p).join(" ").slice(0, 120)})`);
  for (const n of instanceNetns(idx)) out.push(`netns ${n}`);
  for (const n of instanceLinks(idx)) out.push(`link ${n}`);
  for (const m of mountsUnder(l.dir)) out.push(`mount ${m}`);
  for (const d of cgroupDirs(l.cgroup)) out.push(`cgroup ${d}`);
  for (const r of forwardRuleLines(l)) out.push(`iptables ${r}`);
  for (const s of shimSockets(l)) out.push(`shim socket ${s}`);
  if (existsSync(l.dir)) out.push(`dir ${l.dir}`);
  return out;
}

/**
 * daemon/node-keys.ts `liveDirOf` (devcluster may not import the daemon; teardown.test.ts checks
 * that the two agree).
 */
export function shoalLiveDir(dataDir: string): string {
  return join(
    "/dev/shm",
    `shoal-${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16)}`,
  );
}

export interface TeardownOptions {
  /** Copy the logs to this directory before removing the state dir. */
  keepLogsIn?: string;
}

/**
 * Removes instance `idx`: kills every process (freeze + SIGKILL, no graceful stop: nothing of a test
 * cluster is worth keeping), unmounts, deletes netns, links, iptables rules, cgroups and the state
 * dir. Returns the problems it could not fix (the same lines as `leftovers`).
 */
export function teardownSync(idx: number, opts: TeardownOptions = {}): string[] {
  const l = layout(idx);
  const problems: string[] = [];
  const left = killCgroupSync(l.cgroup, () => instancePids(l));
  for (const p of left) problems.push(`process ${p} survived SIGKILL`);
  const shims = shimSockets(l);
  for (const m of unmountUnderSync(l.dir)) problems.push(`cannot unmount ${m}`);
  for (const n of instanceNetns(idx)) {
    if (runSync(["ip", "netns", "del", n]).code !== 0) {
      runSync(["umount", "-l", join(NETNS_DIR, n)]);
      rmSync(join(NETNS_DIR, n), { force: true });
    }
  }
  for (const n of instanceLinks(idx).sort(
    (a, b) => (a.startsWith("shcb") ? 1 : 0) - (b.startsWith("shcb") ? 1 : 0),
  ))
    runSync(["ip", "link", "del", n]);
  for (const chain of ["DOCKER-USER", "FORWARD"]) {
    for (const rule of l.forwardRules) {
      for (let k = 0; k < 10 && runSync(["iptables", "-w", "-C", chain, ...rule]).code === 0; k++)
        runSync(["iptables", "-w", "-D", chain, ...rule]);
    }
  }
  for (const d of removeCgroupSync(l.cgroup)) problems.push(`cannot remove cgroup ${d}`);
  for (const s of shims) rmSync(s, { force: true });
  if (opts.keepLogsIn && existsSync(l.logDir)) {
    try {
      mkdirSync(opts.keepLogsIn, { recursive: true });
      cpSync(l.logDir, opts.keepLogsIn, { recursive: true });
    } catch (err) {
      problems.push(`cannot keep logs: ${String(err)}`);
    }
  }
  // Killed managers leave their plain etcd key copy in memory-backed storage (daemon/node-keys.ts).
  for (const n of existsSync(l.dir) ? readdirSync(l.dir).filter((e) => /^n\d+$/.test(e)) : [])
    rmSync(shoalLiveDir(join(l.dir, n, "shoal")), { recursive: true, force: true });
  if (mountsUnder(l.dir).length === 0) rmSync(l.dir, { recursive: true, force: true });
  else problems.push(`kept ${l.dir}: still has mounts`);
  return [...new Set([...problems, ...leftovers(idx)])];
}

/** Instance indices that have anything on this machine: state dirs, netns, links, cgroups, rules. */
export function discoverInstances(): number[] {
  const found = new Set<number>();
  const add = (n: number | undefined): void => {
    if (n !== undefined) found.add(n);
  };
  const parent = STATE_PREFIX.slice(0, STATE_PREFIX.lastIndexOf("/")) || "/";
  try {
    for (const e of readdirSync(parent)) add(instanceOfName("dir", e));
  } catch {
    // no /tmp?
  }
  for (const n of listNetns()) add(instanceOfName("netns", n));
  for (const n of listLinks()) add(instanceOfName("link", n));
  for (const h of cgroupHierarchies()) {
    try {
      for (const e of readdirSync(h)) if (e.startsWith(CGROUP_PREFIX)) add(instanceOfName("cgroup", e));
    } catch {
      // unreadable hierarchy
    }
  }
  const rules = runSync(["iptables", "-w", "-S"]).stdout;
  for (const m of rules.matchAll(/ -[io] shcb(\d+) /g)) add(Number(m[1]));
  return [...found].sort((a, b) => a - b);
}
