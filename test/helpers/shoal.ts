/**
 * Test helpers for running real shoal daemons (as child processes, the way users run them) and the
 * real docker CLI against them. Polling helpers take explicit deadlines and report the last state
 * they saw.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { liveDirOf } from "../../src/daemon/node-keys.ts";
import { waitFor as poll } from "../../src/devcluster/sys.ts";
import { removeLabelled, removeNodeNetworks } from "./docker.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const SHOAL_BIN = join(REPO, "bin/shoal");
export const DOCKER_20 = "/usr/bin/docker";
export const DOCKER_28 = "/usr/local/bin/docker";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The docker CLI's environment for a daemon on this socket. */
const cliEnv = (socket: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DOCKER_HOST: `unix://${socket}`,
  DOCKER_CLI_HINTS: "false",
});

/**
 * Runs a docker CLI that streams (`logs -f`) until its output so far satisfies `enough`, then
 * stops it; after `timeoutMs` it is stopped anyway and what it printed is returned.
 */
export function dockerFollow(
  socket: string,
  args: string[],
  enough: (stdout: string) => boolean,
  opts: { bin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(opts.bin ?? DOCKER_20, args, {
      env: cliEnv(socket),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 30_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (enough(stdout)) child.kill("SIGTERM");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Runs a docker CLI against a socket; never throws on a non-zero exit. */
export function docker(
  socket: string,
  args: string[],
  opts: { bin?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      opts.bin ?? DOCKER_20,
      args,
      {
        env: cliEnv(socket),
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function ping(socket: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath: socket, path: "/_ping", method: "GET", timeout: 2000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** `/info`'s Swarm.LocalNodeState. */
export function swarmState(socket: string): Promise<string | undefined> {
  return new Promise((done) => {
    const req = request({ socketPath: socket, path: "/v1.41/info", method: "GET", timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          const info = JSON.parse(Buffer.concat(chunks).toString()) as {
            Swarm?: { LocalNodeState?: string };
          };
          done(info.Swarm?.LocalNodeState);
        } catch {
          done(undefined);
        }
      });
    });
    req.on("error", () => done(undefined));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeTcpPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      server.close(() => done(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** devcluster's waitFor, polling every 100 ms: the probe's first value other than undefined/false. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  return poll(what, probe, timeoutMs, 100);
}

/** A shoal daemon child process with its own data dir and Engine API socket. */
export class ShoalDaemon {
  readonly dataDir: string;
  readonly socket: string;
  readonly logPath: string;
  private child: ChildProcess | undefined;

  constructor(readonly root = mkdtempSync(join(tmpdir(), "shoal-test-"))) {
    this.dataDir = join(root, "data");
    this.socket = join(root, "docker.sock");
    this.logPath = join(root, "daemon.log");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(extraArgs: string[] = []): Promise<void> {
    const log = openSync(this.logPath, "a");
    const child = spawn(
      SHOAL_BIN,
      [
        "daemon",
        "--data-dir",
        this.dataDir,
        "--engine-socket",
        this.socket,
        "--log-level",
        "debug",
        ...extraArgs,
      ],
      { stdio: ["ignore", log, log] },
    );
    this.child = child;
    await waitFor(`shoal daemon on ${this.socket} (log ${this.logPath})`, async () => {
      if (child.exitCode !== null)
        throw new Error(`daemon exited with ${child.exitCode}:\n${this.log().slice(-2000)}`);
      return ping(this.socket);
    });
    // The API answers before a saved swarm has resumed; tests start from a settled node.
    await waitFor(
      "the swarm membership to resume",
      async () => (await swarmState(this.socket)) !== "pending",
    );
  }

  /** Waits for the process to exit; returns its exit code. */
  exited(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve(child?.exitCode ?? null);
    return new Promise((done) => child.once("exit", (code) => done(code)));
  }

  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.child) return null;
    const exited = this.exited();
    this.child.kill(signal);
    return exited;
  }

  log(): string {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /**
   * `docker swarm init` on loopback with a free cluster API port, so tests running side by side
   * (and a real Swarm on this machine) never fight over 2377. Returns the CLI's result.
   */
  async init(extraArgs: string[] = []): Promise<CliResult> {
    this.clusterPort ??= await freeTcpPort();
    return this.docker([
      "swarm",
      "init",
      "--advertise-addr",
      "127.0.0.1",
      "--listen-addr",
      `127.0.0.1:${this.clusterPort}`,
      ...extraArgs,
    ]);
  }

  /** Starts the daemon and `init()`s a swarm (throwing if it fails); resolves to the node's ID. */
  async startSwarm(): Promise<string> {
    await this.start();
    const init = await this.init();
    if (init.code !== 0) throw new Error(`docker swarm init failed: ${init.stderr}`);
    const info = await this.docker(["info", "--format", "{{.Swarm.NodeID}}"]);
    if (info.code !== 0 || !info.stdout.trim()) throw new Error(`no node ID in docker info: ${info.stderr}`);
    return info.stdout.trim();
  }

  /** The cluster API port chosen by `init()`. */
  clusterPort: number | undefined;

  docker(args: string[], opts: { bin?: string; input?: string } = {}): Promise<CliResult> {
    return docker(this.socket, args, opts);
  }

  follow(
    args: string[],
    enough: (stdout: string) => boolean,
    opts: { bin?: string; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    return dockerFollow(this.socket, args, enough, opts);
  }

  /** Stops the daemon (SIGTERM, then SIGKILL) and removes its directories. */
  /**
   * Ends a test's swarm: removes `services`, leaves the swarm and stops the daemon, then removes on
   * dockerd whatever node `nodeId` left behind (task containers, local networks), so that later
   * tests on this dockerd do not meet its subnets.
   */
  async disposeSwarm(nodeId: string, services: string[] = []): Promise<void> {
    if (services.length > 0) await this.docker(["service", "rm", ...services]);
    await this.docker(["swarm", "leave", "--force"]);
    await this.dispose();
    if (!nodeId) return;
    await removeLabelled(`com.docker.swarm.node.id=${nodeId}`);
    await removeNodeNetworks(nodeId);
  }

  async dispose(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const timer = setTimeout(() => this.child?.kill("SIGKILL"), 15_000);
      await this.kill("SIGTERM");
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
    // A manager killed with -9 leaves its plain etcd key copy in memory-backed storage.
    rmSync(liveDirOf(this.dataDir), { recursive: true, force: true });
  }
}
