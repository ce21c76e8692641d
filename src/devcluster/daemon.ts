/**
 * The processes of a dev cluster: the binaries it needs, starting a daemon detached in a node's
 * namespaces and cgroups (so nothing escapes teardown, and a daemon outlives the `shoal up` that
 * started it), waiting for it to answer, stopping it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { ensureCgroup, FatalWait, pidAlive, signal, waitFor } from "./sys.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const SHOAL_BIN = join(REPO, "bin/shoal");
export const DOCKER_CLI = "/usr/bin/docker";
export const BINARIES = {
  containerd: "/usr/bin/containerd",
  dockerd: "/usr/sbin/dockerd",
  docker: DOCKER_CLI,
  registry: "/usr/bin/docker-registry",
  busybox: "/bin/busybox",
  nsenter: "/usr/bin/nsenter",
  unshare: "/usr/bin/unshare",
  nft: "/usr/sbin/nft",
  ip: "/usr/sbin/ip",
  iptables: "/usr/sbin/iptables",
  umount: "/usr/bin/umount",
} as const;

/** GET /_ping on a unix socket: true on 200. */
export function pingSocket(socket: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath: socket, path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly log: string;
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<string>;
}

/** The test process's environment minus what would make a daemon behave differently. */
function daemonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["NODE_TEST_CONTEXT", "NODE_OPTIONS", "DOCKER_HOST", "DOCKER_CONTEXT"]) delete env[k];
  return env;
}

/**
 * Starts `argv` detached (own session), with stdout/stderr appended to `log`, after putting the
 * shell that execs it into the cgroups `cgroup`; `ns` is an nsenter prefix. The pid we get is the
 * daemon's own: sh execs nsenter, which execs the daemon (nsenter forks only for a pid namespace).
 */
export function spawnDaemon(
  name: string,
  argv: readonly string[],
  opts: { cgroup: string; log: string; ns?: readonly string[]; env?: Record<string, string> },
): Daemon {
  const procs = ensureCgroup(opts.cgroup);
  const ns = opts.ns ?? [];
  mkdirSync(resolve(opts.log, ".."), { recursive: true });
  const fd = openSync(opts.log, "a");
  const script = 'for f in $1; do echo $$ >"$f" || exit 97; done; shift; exec "$@"';
  const child = spawn("/bin/sh", ["-c", script, "sh", procs.join(" "), ...ns, ...argv], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...daemonEnv(), ...opts.env },
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${name} (${argv[0]})`);
  const exited = new Promise<string>((done) => {
    child.once("exit", (code, sig) => done(sig ?? `exit ${code}`));
    child.once("error", (err) => done(`error ${err.message}`));
  });
  return { name, pid, child, log: opts.log, exited };
}

/** The last `lines` lines of a log, leaving out those `skip` matches. */
export function tail(file: string, lines = 30, skip?: RegExp): string {
  try {
    const all = readFileSync(file, "utf8").split("\n");
    return (skip ? all.filter((l) => !skip.test(l)) : all).slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Waits until `probe` is true; fails at once (with the log tail) if the daemon exits first. */
export async function waitDaemon(
  d: Daemon,
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
) {
  let gone: string | undefined;
  void d.exited.then((how) => {
    gone = how;
  });
  await waitFor(
    what,
    async () => {
      if (gone !== undefined || !pidAlive(d.pid))
        throw new FatalWait(
          new Error(`${d.name} exited (${gone ?? "gone"}) before ${what}:\n${tail(d.log)}`),
        );
      return probe();
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw err instanceof Error && !err.message.includes(d.log)
      ? new Error(`${err.message}\n--- ${d.log}:\n${tail(d.log)}`)
      : err;
  });
}

export async function killAndWait(
  d: Daemon | undefined,
  sig: NodeJS.Signals,
  timeoutMs = 15_000,
): Promise<void> {
  if (!d || !pidAlive(d.pid)) return;
  signal(d.pid, sig);
  try {
    await waitFor(`${d.name} (pid ${d.pid}) to exit after ${sig}`, () => !pidAlive(d.pid), timeoutMs);
  } catch (err) {
    if (sig === "SIGKILL") throw err;
    signal(d.pid, "SIGKILL");
    await waitFor(`${d.name} (pid ${d.pid}) to exit after SIGKILL`, () => !pidAlive(d.pid), 5_000);
  }
}
