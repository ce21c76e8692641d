/**
 * Helpers for tests that need the machine's real dockerd and the real docker CLIs.
 *
 * - `startDockerd()`: starts Debian's dockerd on /var/run/docker.sock unless it already answers
 *   (scripts/start-dockerd.sh, idempotent) and throws, with the script's output, if it cannot.
 *   Call it from a `before` hook: a test that needs dockerd must fail loudly, never skip.
 * - `ensureTestImage()`: makes sure `busybox:local` exists (scripts/make-test-image.sh).
 * - `dockerCli(args, opts)`: runs a docker CLI (20.10 by default, `bin: DOCKER_28` for 28.x) with
 *   `DOCKER_HOST` pointing at `opts.host` (a unix socket path); resolves with code/stdout/stderr and
 *   never throws on a non-zero exit. `opts.input` is piped to stdin.
 * - `dockerTty(command, opts)`: the same under a pseudo-terminal (`script -qec`), for `-it`;
 *   `opts.input` is typed into the terminal.
 * - `removeLabelled(label)`: force-removes the containers a test created (give each a label).
 * - `hostDocker(args)`: the CLI against dockerd, synchronous: its stdout (throws on a failure);
 *   `serviceContainers(nodeId, service)`: the containers a shoal node runs for a service there.
 *
 * `test/helpers/shoal.ts` has `docker(socket, args)` for tests that run whole shoal daemons.
 */
import { execFile, execFileSync } from "node:child_process";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const DOCKERD_SOCKET = "/var/run/docker.sock";
export const DOCKER_20 = "/usr/bin/docker";
export const DOCKER_28 = "/usr/local/bin/docker";
export const TEST_IMAGE = "busybox:local";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The Engine API socket to talk to (DOCKER_HOST=unix://<host>); default dockerd's. */
  host?: string;
  bin?: string;
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

function run(file: string, args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      {
        env: {
          ...process.env,
          DOCKER_HOST: `unix://${opts.host ?? DOCKERD_SOCKET}`,
          DOCKER_CLI_HINTS: "false",
          ...opts.env,
        },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        done({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    // a CLI that exits before reading stdin closes the pipe (EPIPE): its exit code tells
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}

export function dockerCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return run(opts.bin ?? DOCKER_20, args, opts);
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `docker <args>` under a pseudo-terminal; the exit code is the CLI's (`script -e`). */
export function dockerTty(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const command = [opts.bin ?? DOCKER_20, ...args].map(shellQuote).join(" ");
  return run("script", ["-qec", command, "/dev/null"], opts);
}

export async function startDockerd(): Promise<void> {
  const started = await run("bash", [resolve(REPO_ROOT, "scripts/start-dockerd.sh")], { timeoutMs: 60_000 });
  const check = await dockerCli(["version", "--format", "{{.Server.Version}}"]);
  if (started.code !== 0 || check.code !== 0) {
    throw new Error(
      `dockerd is not reachable on ${DOCKERD_SOCKET} (scripts/start-dockerd.sh exited ${started.code}):\n` +
        `${started.stderr}${started.stdout}${check.stderr}`,
    );
  }
}

export async function ensureTestImage(): Promise<void> {
  if ((await dockerCli(["image", "inspect", TEST_IMAGE])).code === 0) return;
  const made = await run("bash", [resolve(REPO_ROOT, "scripts/make-test-image.sh"), TEST_IMAGE], {});
  if (made.code !== 0) throw new Error(`cannot build ${TEST_IMAGE}: ${made.stderr}`);
}

/** Force-removes every container (running or not) carrying `label` (`key=value`), on dockerd directly. */
export async function removeLabelled(label: string): Promise<void> {
  const ids = (await dockerCli(["ps", "-aq", "--filter", `label=${label}`])).stdout
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await dockerCli(["rm", "-f", ...ids]);
}

/** Removes the local (bridge) networks of shoal node `nodeId` that dockerd still has. */
export async function removeNodeNetworks(nodeId: string): Promise<void> {
  const ids = (
    await dockerCli(["network", "ls", "-q", "--filter", `label=io.shoal.node.id=${nodeId}`])
  ).stdout
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await dockerCli(["network", "rm", ...ids]);
}

export function hostDocker(args: string[]): string {
  return execFileSync(DOCKER_20, ["-H", `unix://${DOCKERD_SOCKET}`, ...args], { encoding: "utf8" });
}

/** The containers (running) that shoal node `nodeId` runs for `service` on dockerd. */
export function serviceContainers(nodeId: string, service: string): string[] {
  return hostDocker([
    ...["ps", "-q", "--filter", `label=com.docker.swarm.node.id=${nodeId}`],
    ...["--filter", `label=com.docker.swarm.service.name=${service}`],
  ])
    .split("\n")
    .filter(Boolean);
}
