/**
 * Small system helpers for the cluster harness: running commands, processes, cgroups (v1: the
 * `pids` hierarchy tracks every process, `freezer` stops a node atomically), mounts and network
 * namespaces. The teardown path is synchronous on purpose: it also runs from a process `exit`
 * handler and from cleanup.ts.
 */
import { execFile, spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs a command; never throws (a missing binary or a timeout gives a non-zero code). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error("run: empty argv");
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      {
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        killSignal: "SIGKILL",
      },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = typeof err.code === "number" ? err.code : err.killed ? 124 : 127;
        done({
          code,
          stdout: stdout.toString(),
          stderr: stderr.toString() || (err && code > 123 ? err.message : ""),
        });
      },
    );
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.input ?? "");
  });
}

/** Runs a command and throws (with its output) when it fails. */
export async function must(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0)
    throw new Error(`\`${argv.join(" ")}\` exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function runSync(argv: readonly string[], opts: RunOptions = {}): CmdResult {
  const [file, ...args] = argv;
  if (!file) throw new Error("runSync: empty argv");
  const r = spawnSync(file, args, {
    input: opts.input,
    timeout: opts.timeoutMs ?? 30_000,
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: r.status ?? (r.error ? 127 : 128),
    stdout: r.stdout?.toString() ?? "",
    stderr: r.stderr?.toString() || (r.error?.message ?? ""),
  };
}

export function mustSync(argv: readonly string[], opts: RunOptions = {}): string {
  const r = runSync(argv, opts);
  if (r.code !== 0)
    throw new Error(`\`${argv.join(" ")}\` exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Polls `probe` until it returns something other than undefined/false; throws with the last value seen. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const start = Date.now();
  const end = start + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) {
        reportSlowWait(what, Date.now() - start, timeoutMs);
        return value;
      }
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
      if (err instanceof FatalWait) throw err.cause;
    }
    if (Date.now() >= end) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw: ${String(last)}`);
}

/**
 * With $SHOAL_WAIT_REPORT naming a file, every wait that took more than a quarter of its timeout
 * is appended there (JSON lines): the waits closest to failing on a slower machine.
 */
function reportSlowWait(what: string, tookMs: number, timeoutMs: number): void {
  const file = process.env.SHOAL_WAIT_REPORT;
  if (!file || tookMs * 4 < timeoutMs) return;
  appendFileSync(file, `${JSON.stringify({ what, tookMs, timeoutMs, file: process.argv[1] })}\n`);
}

/** Thrown from a waitFor probe to stop waiting at once (e.g. the daemon exited). */
export class FatalWait extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

// ---------- processes ----------

/** The process state letter (R, S, D, Z...) or undefined if there is no such process. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

/** True if the process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== "Z" && s !== "X";
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks): with the pid, identifies a process. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function allPids(): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

export function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Proportional set size of a process in KiB (0 if gone). */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// ---------- cgroups (v1) ----------

export const CGROUP_ROOT = "/sys/fs/cgroup";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

const unescapeMount = (s: string): string =>
  s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Parses /proc/<pid>/mountinfo text. */
export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const f = line.split(" ");
      const sep = f.indexOf("-");
      return {
        mountPoint: unescapeMount(f[4] ?? ""),
        fsType: f[sep + 1] ?? "",
        superOptions: f[sep + 3] ?? "",
      };
    });
}

/** The mounts of this process's mount namespace. */
export function mounts(): MountEntry[] {
  return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** Mount points of every cgroup hierarchy (v1 controllers, named ones, a v2 unified one). */
export function cgroupHierarchies(): string[] {
  return [
    ...new Set(
      mounts()
        .filter((m) => m.fsType === "cgroup" || m.fsType === "cgroup2")
        .map((m) => m.mountPoint),
    ),
  ];
}

/** The hierarchy that tracks processes: v1 `pids` if mounted, else a v2 unified root. */
export function trackingHierarchies(): { pids: string | undefined; freezer: string | undefined } {
  const ms = mounts();
  const v1 = (ctl: string): string | undefined =>
    ms.find((m) => m.fsType === "cgroup" && m.superOptions.split(",").includes(ctl))?.mountPoint;
  return { pids: v1("pids") ?? ms.find((m) => m.fsType === "cgroup2")?.mountPoint, freezer: v1("freezer") };
}

/** Creates `rel` in the tracking hierarchies; returns the cgroup.procs files a process must join. */
export function ensureCgroup(rel: string): string[] {
  const t = trackingHierarchies();
  const files: string[] = [];
  for (const h of [t.pids, t.freezer]) {
    if (!h) continue;
    mkdirSync(join(h, rel), { recursive: true });
    files.push(join(h, rel, "cgroup.procs"));
  }
  if (files.length === 0) throw new Error("no pids/freezer cgroup hierarchy is mounted");
  return files;
}

function walkDirs(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return;
  }
  out.push(dir);
  for (const e of entries) walkDirs(join(dir, e), out);
}

/** Every cgroup directory of `rel` and below, in all hierarchies, parents before children. */
export function cgroupDirs(rel: string): string[] {
  const out: string[] = [];
  for (const h of cgroupHierarchies()) walkDirs(join(h, rel), out);
  return out;
}

/** Live (non-zombie) processes in `rel` and below, in any hierarchy. */
export function cgroupPids(rel: string): number[] {
  const pids = new Set<number>();
  for (const d of cgroupDirs(rel)) {
    try {
      for (const p of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (p) pids.add(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids].filter(pidAlive);
}

function setFreezer(rel: string, state: "FROZEN" | "THAWED"): boolean {
  const h = trackingHierarchies().freezer;
  if (!h || !existsSync(join(h, rel, "freezer.state"))) return false;
  try {
    writeFileSync(join(h, rel, "freezer.state"), state);
    return true;
  } catch {
    return false;
  }
}

/** Freezes every process of `rel` and below (freezer v1); false if there is no freezer. */
export function freezeCgroup(rel: string): boolean {
  return setFreezer(rel, "FROZEN");
}
export function thawCgroup(rel: string): boolean {
  return setFreezer(rel, "THAWED");
}
export function cgroupFrozen(rel: string): boolean {
  const h = trackingHierarchies().freezer;
  if (!h) return false;
  try {
    return readFileSync(join(h, rel, "freezer.state"), "utf8").trim() !== "THAWED";
  } catch {
    return false;
  }
}

/**
 * SIGKILLs every process of `rel` and below, plus `extra`, without a window in which one can fork
 * an untracked child: freeze, kill, thaw, repeat until none is left. Returns the pids still alive.
 */
export function killCgroupSync(rel: string, extra: () => number[] = () => [], timeoutMs = 10_000): number[] {
  const end = Date.now() + timeoutMs;
  let left: number[] = [];
  for (;;) {
    const frozen = freezeCgroup(rel);
    left = [...new Set([...cgroupPids(rel), ...extra()])].filter((p) => p !== process.pid);
    for (const p of left) signal(p, "SIGKILL");
    if (frozen) thawCgroup(rel);
    if (left.length === 0 || Date.now() > end) break;
    sleepSync(50);
    left = [...new Set([...cgroupPids(rel), ...extra()])].filter((p) => p !== process.pid);
    if (left.length === 0) break;
  }
  return left;
}

/** Removes `rel` and every cgroup below it in all hierarchies; returns the ones that stay. */
export function removeCgroupSync(rel: string): string[] {
  const dirs = cgroupDirs(rel).reverse();
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        // busy (a process is still exiting) or already gone
      }
    }
    if (dirs.every((d) => !existsSync(d))) return [];
    sleepSync(50);
  }
  return dirs.filter((d) => existsSync(d));
}

// ---------- mounts ----------

/** Mount points at or below `prefix`, deepest first. */
export function mountsUnder(prefix: string): string[] {
  const p = prefix.replace(/\/+$/, "");
  return [
    ...new Set(
      mounts()
        .map((m) => m.mountPoint)
        .filter((m) => m === p || m.startsWith(`${p}/`)),
    ),
  ].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `prefix` (lazily if busy); returns what could not be unmounted. */
export function unmountUnderSync(prefix: string): string[] {
  for (let round = 0; round < 5; round++) {
    const ms = mountsUnder(prefix);
    if (ms.length === 0) return [];
    for (const m of ms) {
      if (runSync(["umount", m]).code !== 0) runSync(["umount", "-l", m]);
    }
  }
  return mountsUnder(prefix);
}

// ---------- network namespaces ----------

/** The inode of a network namespace file (/var/run/netns/X or /proc/<pid>/ns/net). */
export function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Processes whose network namespace is one of `inodes`. */
export function pidsInNetns(inodes: ReadonlySet<number>): number[] {
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const pid of allPids()) {
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
      if (m && inodes.has(Number(m[1])) && pidAlive(pid)) out.push(pid);
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Processes whose command line mentions `needle` (used to find escaped daemons of an instance). */
export function pidsWithArg(needle: string): number[] {
  return allPids().filter(
    (p) => p !== process.pid && procCmdline(p).some((a) => a.includes(needle)) && pidAlive(p),
  );
}
