/**
 * One node of a dev cluster: a network namespace, a UTS namespace (its hostname) and a mount namespace
 * (its own /etc/docker; dockerd's mounts stay inside) with its own containerd, dockerd and, on
 * demand, a shoal daemon. Every process is started through `nsenter --net=... --uts=... --mount=...`
 * (never `ip netns exec`, which remounts /sys and hides the cgroup mounts from dockerd) and put in
 * the node's cgroups before it execs, so nothing escapes teardown.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BINARIES,
  type Daemon,
  DOCKER_CLI,
  killAndWait,
  pingSocket,
  SHOAL_BIN,
  spawnDaemon,
  waitDaemon,
} from "./daemon.ts";
import type { Layout, NodeLayout } from "./layout.ts";
import { setupNamespaces } from "./namespaces.ts";
import { PARTITION_TABLE, type PartitionDirection, partitionRules } from "./network.ts";
import {
  type CmdResult,
  cgroupFrozen,
  cgroupPids,
  freezeCgroup,
  killCgroupSync,
  must,
  pidAlive,
  type RunOptions,
  run,
  sleep,
  thawCgroup,
} from "./sys.ts";

export interface NodeOptions {
  /** Extra dockerd flags for this node. */
  dockerdArgs?: readonly string[];
}

export interface ShoalStartOptions {
  /** Add `--advertise-addr <node addr>` unless the args already have one (default true). */
  advertiseAddr?: boolean;
  /** How long to wait for /_ping (default 30 s). */
  timeoutMs?: number;
}

export class ClusterNode {
  /** Address on the harness network (eth0 in the node's netns). */
  readonly addr: string;
  readonly hostname: string;
  readonly netns: string;
  /** dockerd's Engine API socket (on the host filesystem). */
  readonly dockerd: string;
  /** shoal's Engine API socket (on the host filesystem), once startShoal was called. */
  readonly shoalSocket: string;
  readonly shoalDataDir: string;
  private containerdProc: Daemon | undefined;
  private dockerdProc: Daemon | undefined;
  private shoalProc: Daemon | undefined;
  private shoalArgs: readonly string[] | undefined;
  private shoalOpts: ShoalStartOptions = {};

  constructor(
    readonly index: number,
    readonly paths: NodeLayout,
    private readonly cluster: Layout,
    private readonly opts: NodeOptions = {},
  ) {
    this.addr = paths.addr;
    this.hostname = paths.hostname;
    this.netns = paths.netns;
    this.dockerd = paths.dockerdSocket;
    this.shoalSocket = paths.shoalSocket;
    this.shoalDataDir = paths.shoalDataDir;
  }

  // ---------- namespaces ----------
  /** See setupNamespaces (namespaces.ts). */
  async setupNamespaces(): Promise<void> {
    await setupNamespaces(this.paths);
  }

  private nsPrefix(): string[] {
    const p = this.paths;
    return [BINARIES.nsenter, `--net=${p.netnsPath}`, `--uts=${p.utsFile}`, `--mount=${p.mntFile}`, "--"];
  }

  /** Runs a command inside the node's network and UTS namespaces; never throws. */
  exec(argv: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
    return run([...this.nsPrefix(), ...argv], opts);
  }

  /** `sh -c script` inside the node's namespaces. */
  sh(script: string, opts: RunOptions = {}): Promise<CmdResult> {
    return this.exec(["/bin/sh", "-c", script], opts);
  }

  /** True if one ICMP echo to `addr` is answered within `timeoutS` (busybox ping, from the netns). */
  async ping(addr: string, timeoutS = 1): Promise<boolean> {
    const r = await this.exec([BINARIES.busybox, "ping", "-c", "1", "-W", String(timeoutS), addr], {
      timeoutMs: timeoutS * 1000 + 3000,
    });
    return r.code === 0;
  }

  // ---------- partition ----------

  /** Drops all traffic through the node's eth0, or only to/from `peers` (addresses). */
  async partition(peers?: readonly string[], direction: PartitionDirection = "both"): Promise<void> {
    await this.heal();
    await must([...this.nsPrefix(), BINARIES.nft, "-f", "-"], { input: partitionRules(peers, direction) });
  }

  async heal(): Promise<void> {
    await run([...this.nsPrefix(), BINARIES.nft, "delete", "table", "inet", PARTITION_TABLE]);
  }

  async partitioned(): Promise<boolean> {
    return (
      (await run([...this.nsPrefix(), BINARIES.nft, "list", "table", "inet", PARTITION_TABLE])).code === 0
    );
  }

  // ---------- containerd + dockerd ----------

  private writeConfigs(): void {
    const p = this.paths;
    for (const d of [p.containerdRoot, p.containerdState, p.dataRoot, p.execRoot, p.logDir])
      mkdirSync(d, { recursive: true });
    writeFileSync(
      p.containerdConfig,
      [
        "version = 2",
        `root = "${p.containerdRoot}"`,
        `state = "${p.containerdState}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        "[grpc]",
        `  address = "${p.containerdSocket}"`,
        "[ttrpc]",
        `  address = "${p.containerdSocket}.ttrpc"`,
        "[debug]",
        '  address = ""',
        "[metrics]",
        '  address = ""',
        "[plugins]",
        '  [plugins."io.containerd.internal.v1.opt"]',
        `    path = "${join(p.containerdRoot, "opt")}"`,
        "",
      ].join("\n"),
    );
    // own config file: never read the host's /etc/docker/daemon.json
    if (!existsSync(p.dockerdConfig)) writeFileSync(p.dockerdConfig, "{}\n");
  }

  get containerdPid(): number | undefined {
    return this.containerdProc && pidAlive(this.containerdProc.pid) ? this.containerdProc.pid : undefined;
  }

  get dockerdPid(): number | undefined {
    return this.dockerdProc && pidAlive(this.dockerdProc.pid) ? this.dockerdProc.pid : undefined;
  }

  get shoalPid(): number | undefined {
    return this.shoalProc && pidAlive(this.shoalProc.pid) ? this.shoalProc.pid : undefined;
  }

  private async startContainerd(): Promise<void> {
    if (this.containerdPid) return;
    const p = this.paths;
    this.writeConfigs();
    rmSync(p.containerdSocket, { force: true });
    rmSync(`${p.containerdSocket}.ttrpc`, { force: true });
    const d = spawnDaemon(
      `containerd of node ${this.index}`,
      [BINARIES.containerd, "--config", p.containerdConfig],
      {
        cgroup: p.daemonsCgroup,
        log: join(p.logDir, "containerd.log"),
        ns: this.nsPrefix(),
      },
    );
    this.containerdProc = d;
    await waitDaemon(
      d,
      `containerd socket ${p.containerdSocket}`,
      () => existsSync(p.containerdSocket),
      30_000,
    );
  }

  /**
   * Starts (or restarts) the node's containerd (if it is not running) and dockerd; resolves when
   * dockerd answers /_ping. Keeps the node's state (images, containers) across restarts.
   */
  async startDockerd(timeoutMs = 60_000): Promise<void> {
    await this.startContainerd();
    if (this.dockerdPid) return;
    const p = this.paths;
    rmSync(p.dockerdSocket, { force: true });
    const d = spawnDaemon(
      `dockerd of node ${this.index}`,
      [
        BINARIES.dockerd,
        "--config-file",
        p.dockerdConfig,
        "--data-root",
        p.dataRoot,
        "--exec-root",
        p.execRoot,
        "-H",
        `unix://${p.dockerdSocket}`,
        "--pidfile",
        p.dockerdPidfile,
        "--containerd",
        p.containerdSocket,
        "--cgroup-parent",
        `/${p.cgroup}`,
        "--insecure-registry",
        this.cluster.subnet,
        ...(this.opts.dockerdArgs ?? []),
      ],
      { cgroup: p.daemonsCgroup, log: join(p.logDir, "dockerd.log"), ns: this.nsPrefix() },
    );
    this.dockerdProc = d;
    await waitDaemon(
      d,
      `dockerd of node ${this.index} on ${p.dockerdSocket}`,
      () => pingSocket(p.dockerdSocket),
      timeoutMs,
    );
  }

  /** Sends `sig` (default SIGKILL) to dockerd only and waits for it to exit; containerd and containers stay. */
  async killDockerd(sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.dockerdPid) throw new Error(`dockerd of node ${this.index} is not running`);
    await killAndWait(this.dockerdProc, sig, 30_000);
  }

  /** Sends `sig` to containerd only (its shims and containers keep running). */
  async killContainerd(sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.containerdPid) throw new Error(`containerd of node ${this.index} is not running`);
    await killAndWait(this.containerdProc, sig);
  }

  /** Runs the docker CLI directly against the node's dockerd (not through shoal). */
  dockerdCli(args: readonly string[], opts: RunOptions = {}): Promise<CmdResult> {
    return run([DOCKER_CLI, ...args], {
      ...opts,
      timeoutMs: opts.timeoutMs ?? 120_000,
      env: { DOCKER_HOST: `unix://${this.dockerd}`, DOCKER_CLI_HINTS: "false", ...opts.env },
    });
  }

  // ---------- shoal ----------

  /**
   * Starts `bin/shoal daemon` in the node's namespaces: its own data dir, its Engine API socket on
   * the host filesystem, `--docker` = this node's dockerd, cluster API on 0.0.0.0:2377 of the node.
   * Resolves when /_ping answers. Remembers the arguments for restartShoal().
   */
  async startShoal(extraArgs: readonly string[] = [], opts: ShoalStartOptions = {}): Promise<void> {
    if (this.shoalPid)
      throw new Error(`shoal on node ${this.index} is already running (pid ${this.shoalPid})`);
    const p = this.paths;
    this.shoalArgs = extraArgs;
    this.shoalOpts = opts;
    mkdirSync(p.shoalDataDir, { recursive: true });
    const has = (flag: string): boolean => extraArgs.some((a) => a === flag || a.startsWith(`${flag}=`));
    const args = [
      "daemon",
      "--data-dir",
      p.shoalDataDir,
      "--engine-socket",
      p.shoalSocket,
      "--docker",
      `unix://${p.dockerdSocket}`,
      ...(has("--listen-addr") ? [] : ["--listen-addr", "0.0.0.0:2377"]),
      ...(opts.advertiseAddr === false || has("--advertise-addr") ? [] : ["--advertise-addr", this.addr]),
      ...(has("--log-level") ? [] : ["--log-level", "debug"]),
      ...extraArgs,
    ];
    const d = spawnDaemon(`shoal on node ${this.index}`, [SHOAL_BIN, ...args], {
      cgroup: p.shoalCgroup,
      log: join(p.logDir, "shoal.log"),
      ns: this.nsPrefix(),
    });
    this.shoalProc = d;
    await waitDaemon(
      d,
      `shoal on node ${this.index} on ${p.shoalSocket}`,
      () => pingSocket(p.shoalSocket),
      opts.timeoutMs ?? 30_000,
    );
  }

  /**
   * Sends `sig` (default SIGKILL) to the shoal daemon and waits for it to exit. With
   * `{ children: true }` also kills what it started (its etcd); by default a kill -9 leaves etcd
   * running, as on a real machine.
   */
  async killShoal(sig: NodeJS.Signals = "SIGKILL", opts: { children?: boolean } = {}): Promise<void> {
    if (!this.shoalPid && !opts.children) throw new Error(`shoal on node ${this.index} is not running`);
    await killAndWait(this.shoalProc, sig);
    if (opts.children) killCgroupSync(this.paths.shoalCgroup);
  }

  /** SIGTERM to shoal if it runs; SIGKILL after `timeoutMs`. */
  async stopShoal(timeoutMs = 15_000): Promise<void> {
    await killAndWait(this.shoalProc, "SIGTERM", timeoutMs);
  }

  /** Stops shoal (SIGTERM, SIGKILL after 15 s) if it runs, and starts it again with the same arguments. */
  async restartShoal(extraArgs?: readonly string[]): Promise<void> {
    await killAndWait(this.shoalProc, "SIGTERM");
    await this.startShoal(extraArgs ?? this.shoalArgs ?? [], this.shoalOpts);
  }

  /** Runs the real docker CLI (/usr/bin/docker, 20.10) against this node's shoal socket. */
  docker(args: readonly string[], opts: RunOptions & { bin?: string } = {}): Promise<CmdResult> {
    return run([opts.bin ?? DOCKER_CLI, ...args], {
      ...opts,
      timeoutMs: opts.timeoutMs ?? 120_000,
      env: { DOCKER_HOST: `unix://${this.shoalSocket}`, DOCKER_CLI_HINTS: "false", ...opts.env },
    });
  }

  // ---------- whole node ----------

  /** Pids of the shoal daemon and what it started (its etcd). */
  shoalPids(): number[] {
    return cgroupPids(this.paths.shoalCgroup);
  }

  /** TCP ports listening in the node's netns, as "addr:port" (IPv4 and IPv6, from /proc/net/tcp*). */
  async listeners(): Promise<string[]> {
    const r = await this.exec(["cat", "/proc/net/tcp", "/proc/net/tcp6"]);
    const out: string[] = [];
    for (const line of r.stdout.split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "0A" || !f[1]) continue;
      const [hex = "", portHex = "0"] = f[1].split(":");
      const port = Number.parseInt(portHex, 16);
      let addr: string;
      if (hex.length === 8)
        addr = (hex.match(/../g) ?? [])
          .reverse()
          .map((b) => Number.parseInt(b, 16))
          .join(".");
      else if (/^0{32}$/.test(hex)) addr = "::";
      else if (hex.startsWith("0000000000000000FFFF0000"))
        addr = (hex.slice(24).match(/../g) ?? [])
          .reverse()
          .map((b) => Number.parseInt(b, 16))
          .join(".");
      else addr = hex;
      out.push(`${addr}:${port}`);
    }
    return [...new Set(out)];
  }

  /** Pids of every process of the node (daemons, shims, containers, shoal, etcd). */
  pids(): number[] {
    return cgroupPids(this.paths.cgroup);
  }

  /** kill -9 of every process of the node at once (a power cut); its netns and state stay. */
  async crash(): Promise<void> {
    const left = killCgroupSync(this.paths.cgroup);
    if (left.length > 0) throw new Error(`node ${this.index}: pids ${left.join(" ")} survived SIGKILL`);
    // let Node reap its children so that pidAlive() is false for them
    await sleep(20);
  }

  /** Starts containerd + dockerd after crash() (and shoal with its last arguments if `shoal`). */
  async boot(opts: { shoal?: boolean } = {}): Promise<void> {
    await this.startDockerd();
    if (opts.shoal) await this.startShoal(this.shoalArgs ?? [], this.shoalOpts);
  }

  /** Freezes every process of the node (a hung machine: connections stay open, nothing answers). */
  freeze(): void {
    if (!freezeCgroup(this.paths.cgroup)) throw new Error("no freezer cgroup");
  }

  thaw(): void {
    thawCgroup(this.paths.cgroup);
  }

  get frozen(): boolean {
    return cgroupFrozen(this.paths.cgroup);
  }

  /** Log files of the node's daemons. */
  get logs(): { containerd: string; dockerd: string; shoal: string } {
    const d = this.paths.logDir;
    return {
      containerd: join(d, "containerd.log"),
      dockerd: join(d, "dockerd.log"),
      shoal: join(d, "shoal.log"),
    };
  }
}
