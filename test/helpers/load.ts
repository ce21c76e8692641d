/**
 * Request loops inside a client container, for the zero-drop tests: four busybox loops (two on a
 * slow CGI, two on a static file) requesting `http://<service><path>` until told to stop, each
 * request a new `wget` (a new connection, the service name resolved again), each bounded.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";

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
