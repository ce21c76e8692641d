/**
 * Supervises the local etcd member: starts `/usr/bin/etcd` as a child process, waits until it is
 * healthy, restarts it with backoff when it dies unexpectedly, and stops it (SIGTERM, then SIGKILL).
 * etcd exits with status 0 only when its member has been removed from the cluster ("the member has
 * been permanently removed"): such a member stays down as `removed`, since a restart with the same
 * data directory would only exit again. The constructor does no I/O; `start()` resolves once the
 * member is healthy; `stop()` is idempotent.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import {
  backoffDelay,
  type Clock,
  failedPrecondition,
  type Logger,
  SystemClock,
  unavailable,
} from "../base/index.ts";
import {
  type EtcdMemberConfig,
  etcdArgs,
  etcdDataDir,
  peerUrlOf,
  validateEtcdMemberConfig,
} from "./config.ts";

const SETPRIV = "/usr/bin/setpriv";

export type EtcdMemberState = "idle" | "starting" | "running" | "restarting" | "removed" | "stopped";

export class EtcdMember {
  private readonly config: EtcdMemberConfig;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private state: EtcdMemberState = "idle";
  private restarts = 0;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(
    config: EtcdMemberConfig,
    private readonly log: Logger,
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.config = validateEtcdMemberConfig({ ...config });
  }

  /** The client URL (valid once started). */
  get clientUrl(): string {
    return `http://127.0.0.1:${this.config.clientPort}`;
  }

  get peerUrl(): string {
    return peerUrlOf(this.config);
  }

  get dataDir(): string {
    return etcdDataDir(this.config);
  }

  /** The etcd child's process ID, if it is running. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  get status(): { state: EtcdMemberState; restarts: number } {
    return { state: this.state, restarts: this.restarts };
  }

  /** Starts etcd and resolves once it reports healthy; fails if it does not within the deadline. */
  async start(): Promise<void> {
    if (this.state !== "idle") throw failedPrecondition(`etcd member is ${this.state}`);
    this.state = "starting";
    try {
      await access(this.config.binary, constants.X_OK);
    } catch {
      this.state = "stopped";
      throw failedPrecondition(`etcd executable ${this.config.binary} not found (install etcd-server)`);
    }
    if (this.config.clientPort === 0) this.config.clientPort = await freePort();
    if (this.config.peerPort === 0) this.config.peerPort = await freePort();
    try {
      this.spawn();
      await this.waitHealthy();
      this.state = "running";
      // --force-new-cluster rewrites the membership once; a restart must not do it again.
      this.config.forceNewCluster = false;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Runs until the signal aborts, then stops etcd. */
  async run(signal: AbortSignal): Promise<void> {
    await this.start();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await this.stop();
  }

  /**
   * Restarts etcd so that it reads its files again: etcd loads its trusted CA file only at start
   * (3.4 keeps the pool it started with; checked), so a new cluster root needs this. Resolves once
   * the member is healthy again.
   */
  async reload(): Promise<void> {
    const child = this.child;
    if (this.state !== "running" || !child) throw failedPrecondition(`etcd member is ${this.state}`);
    // Not "running": onExit leaves this exit to us.
    this.state = "restarting";
    child.kill("SIGTERM");
    const timer = this.clock.setTimer(this.config.stopTimeoutMs, () => child.kill("SIGKILL"));
    await this.exited;
    timer.cancel();
    this.log.info({}, "etcd stopped to reload its files");
    await this.restart();
  }

  /** Stops etcd: SIGTERM, then SIGKILL after the grace period. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.terminate();
    return this.stopped;
  }

  /** Removes etcd's data directory (for `swarm leave --force`); only while stopped. */
  async wipe(): Promise<void> {
    if (this.state !== "stopped" && this.state !== "idle" && this.state !== "removed")
      throw failedPrecondition("stop the etcd member first");
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private async terminate(): Promise<void> {
    this.state = "stopped";
    this.stopping.abort();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = this.clock.setTimer(this.config.stopTimeoutMs, () => {
      this.log.warn({ pid: child.pid }, "etcd did not stop in time; killing it");
      child.kill("SIGKILL");
    });
    await this.exited;
    timer.cancel();
    this.log.info({}, "etcd stopped");
  }

  private spawn(): void {
    const [command, args] = this.command();
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on("line", (line) => this.log.debug({ etcd: line }, "etcd"));
    }
    child.once("error", (err) => this.log.error({ err: err.message }, "etcd process error"));
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    this.log.info({ pid: child.pid, clientUrl: this.clientUrl, name: this.config.name }, "etcd started");
  }

  private command(): [string, string[]] {
    const args = etcdArgs(this.config);
    if (!this.config.dieWithParent || !existsSync(SETPRIV)) return [this.config.binary, args];
    return [SETPRIV, ["--pdeathsig", "KILL", "--", this.config.binary, ...args]];
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child || this.stopping.signal.aborted) return;
    // A child that dies while starting or restarting fails that loop's health wait, which retries;
    // a second loop here would double the restarts at every failure.
    if (this.state !== "running") return;
    if (code === 0) {
      this.markRemoved();
      return;
    }
    this.log.warn({ code, signal, restarts: this.restarts }, "etcd exited unexpectedly; restarting");
    // The restart loop reports its own failures; nothing awaits it.
    void this.restart();
  }

  private async restart(): Promise<void> {
    this.state = "restarting";
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.clock.sleep(backoffDelay(attempt, this.config.restartBackoff), this.stopping.signal);
        this.restarts++;
        this.spawn();
        await this.waitHealthy();
        this.state = "running";
        this.log.info({ restarts: this.restarts }, "etcd restarted");
        return;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        if (this.child?.exitCode === 0) {
          this.markRemoved();
          return;
        }
        this.log.error({ err: String(err), attempt }, "etcd restart failed");
        this.child?.kill("SIGKILL");
        await this.exited;
      }
    }
  }

  private markRemoved(): void {
    this.state = "removed";
    this.log.warn({}, "etcd member removed from the cluster; not restarting it");
  }

  private async waitHealthy(): Promise<void> {
    const deadline = this.clock.now() + this.config.healthTimeoutMs;
    const child = this.child;
    let last = "no answer";
    while (this.clock.now() < deadline) {
      if (this.stopping.signal.aborted) throw unavailable("etcd member is stopping");
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        throw unavailable(`etcd exited during start (code ${child?.exitCode}, signal ${child?.signalCode})`);
      }
      last = await probeHealth(this.clientUrl);
      if (last === "ok") return;
      await this.clock.sleep(100, this.stopping.signal).catch(() => {});
    }
    throw unavailable(`etcd not healthy after ${this.config.healthTimeoutMs} ms (last: ${last})`);
  }
}

/** Asks etcd's /health endpoint; "ok" or what went wrong. */
async function probeHealth(clientUrl: string): Promise<string> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string; reason?: string };
    return body.health === "true" ? "ok" : `unhealthy: ${body.reason ?? JSON.stringify(body)}`;
  } catch (err) {
    return String((err as Error).cause ?? err);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}
