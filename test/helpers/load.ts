/**
 * Request loops inside a client container, for the zero-drop tests: four busybox loops (two on a
 * slow CGI, two on a static file) requesting `http://<service><path>` until told to stop, each
 * request a new `wget` (a new connection, the service name resolved again), each bounded.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

/** Requests per loop at most: the loops stop on a flag file long before (bounded anyway). */
const MAX_PER_LOOP = 3000;

/** The backend's shell script: a static file and a CGI answering after `slowSeconds`. */
export function backendScript(slowSeconds: number): string {
  const cgi = `#!/bin/sh\\nsleep ${slowSeconds}\\necho "Content-Type: text/plain"\\necho\\necho slow\\n`;
  return [
    "mkdir -p /www/cgi-bin && echo ok > /www/index.html",
    `printf '${cgi}' > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow`,
    // exits at once on SIGTERM: its httpd dies with it and requests in flight are cut
    "trap 'exit 0' TERM",
    // listens 2 s after the start: a task sent requests before it is healthy fails them
    "sleep 2",
    "httpd -f -p 80 -h /www & wait",
  ].join("; ");
}

/**
 * The backend service's flags after its name, network and placement: a healthcheck that gates a
 * new task until it listens, the image and `backendScript`.
 */
export function backendServiceArgs(slowSeconds: number, image = "busybox:local"): string[] {
  return [
    ...["--health-cmd", "timeout 2 wget -qO- http://127.0.0.1/ >/dev/null"],
    ...["--health-interval", "500ms", "--health-retries", "10"],
    ...[image, "sh", "-c", backendScript(slowSeconds)],
  ];
}

const loop = (service: string, path: string): string =>
  `i=0; while [ $i -lt ${MAX_PER_LOOP} ] && [ ! -e /tmp/stop ]; do i=$((i+1)); s=$(date +%T); ` +
  `if out=$(timeout 5 wget -qO- http://${service}${path} 2>&1); then echo "ok $out"; ` +
  `else echo "FAIL rc=$? ${path} $s-$(date +%T) $out"; fi; done`;

export interface LoadResult {
  sent: number;
  failed: string[];
}

export class RequestLoops {
  private child: ChildProcess | undefined;
  private out = "";

  /** `dockerHost`: the dockerd running `container` (`unix:///...`). */
  constructor(
    private readonly dockerHost: string,
    private readonly container: string,
    private readonly service: string,
  ) {}

  private docker(args: string[]): string[] {
    return ["-H", this.dockerHost, ...args];
  }

  /** One request from the client container: whether the service's static page answered. */
  async answers(): Promise<boolean> {
    const probe = `timeout 3 wget -qO- http://${this.service}/ || true`;
    const args = this.docker(["exec", this.container, "sh", "-c", probe]);
    const { stdout } = await promisify(execFile)("/usr/bin/docker", args, { encoding: "utf8" });
    return stdout.trim() === "ok";
  }

  /**
   * Runs `action` under load: the loops start 1.5 s before it and go on 4 s after it returns (the
   * last drains end after the CLI does). Asserts that no request failed and that enough were sent
   * to mean something.
   */
  async during(what: string, action: () => Promise<void>): Promise<void> {
    this.start();
    await sleep(1500);
    await action();
    await sleep(4000);
    const result = await this.stop();
    console.log(`${what}: ${result.sent} requests, ${result.failed.length} failed`);
    assert.deepEqual(result.failed, [], `${what}: failed requests`);
    assert.ok(result.sent >= 40, `${what}: only ${result.sent} requests were sent`);
  }

  start(): void {
    const [slow, fast] = [loop(this.service, "/cgi-bin/slow"), loop(this.service, "/")];
    const script = `rm -f /tmp/stop; (${slow}) & (${slow}) & (${fast}) & (${fast}) & wait`;
    this.out = "";
    this.child = spawn("/usr/bin/docker", this.docker(["exec", this.container, "sh", "-c", script]));
    this.child.stdout?.on("data", (d: Buffer) => {
      this.out += d.toString();
    });
  }

  async stop(): Promise<LoadResult> {
    const child = this.child;
    assert.ok(child, "load not started");
    const ended = new Promise<void>((done) => child.once("close", () => done()));
    execFileSync("/usr/bin/docker", this.docker(["exec", this.container, "touch", "/tmp/stop"]));
    // each loop finishes its request in flight (at most the 5 s wget timeout)
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await ended;
    clearTimeout(timer);
    const lines = this.out.split("\n").filter(Boolean);
    return { sent: lines.length, failed: lines.filter((l) => !/^ok (ok|slow)$/.test(l)) };
  }
}
