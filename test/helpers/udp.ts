/**
 * UDP for the mesh and VIP tests. busybox:local's `nc` is the small build (no `-u`) and it has no
 * `udpsvd`, so a task's UDP server is a node process put into the task container's netns with
 * `nsenter --net`: the datagram's whole path (mesh or VIP DNAT, the task's address, its replies)
 * is the container's, only the program comes from the host. It answers every datagram with the
 * text it was given (the container's hostname), so an answer names the task.
 *
 * - `startResponder(pid, ports, text)`: the servers in the netns of `pid`; `stop()` ends them.
 * - `askUdp(host, port)`: one datagram from a new socket (a new source port, so a new conntrack
 *   flow and a new balancing decision); the answer, or undefined after the timeout.
 * - `udpAnswers(host, port, n)`: `n` such datagrams in turn; `probeArgs` runs the same from
 *   another netns (`ip netns exec NS node ...`) and prints the answers as JSON; `probeFrom` runs
 *   it and parses them.
 * - `sleeperService(name, options)`: the `service create` argv of such tasks (they only sleep).
 * - `UdpFlow`: one socket kept open (a fixed source port: the same conntrack flow every time);
 *   `keptFlowArgs` runs one in another netns, printing each new answer.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";

const RESPONDER_JS = `
const [ports, text] = process.argv.slice(1);
let bound = 0;
for (const port of ports.split(",")) {
  const s = require("node:dgram").createSocket("udp4");
  s.on("message", (_m, r) => s.send(text, r.port, r.address));
  s.bind(Number(port), "0.0.0.0", () => ++bound === ports.split(",").length && console.log("ready"));
}
`;

const PROBE_JS = `
const dgram = require("node:dgram");
const [host, port, n, ms] = process.argv.slice(1);
const ask = () => new Promise((done) => {
  const s = dgram.createSocket("udp4");
  const end = (v) => { clearTimeout(t); s.close(); done(v); };
  const t = setTimeout(() => end(null), Number(ms));
  s.on("message", (m) => end(m.toString().trim()));
  s.on("error", () => end(null));
  s.send("who", Number(port), host);
});
(async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) out.push(await ask());
  console.log(JSON.stringify(out));
})();
`;

const KEPT_FLOW_JS = `
const s = require("node:dgram").createSocket("udp4");
const [host, port, seconds] = process.argv.slice(1);
const seen = new Set();
s.on("message", (m) => {
  const a = m.toString().trim();
  if (!seen.has(a)) { seen.add(a); console.log(a); }
});
s.on("error", () => undefined);
const t = setInterval(() => s.send("who", Number(port), host), 300);
setTimeout(() => { clearInterval(t); s.close(); }, Number(seconds) * 1000);
`;

export interface Responder {
  stop(): void;
}

/** UDP servers on `ports` in the netns of `pid`, answering `text`; resolves once they are bound. */
export function startResponder(pid: number, ports: readonly number[], text: string): Promise<Responder> {
  const child: ChildProcess = spawn(
    "nsenter",
    [`--net=/proc/${pid}/ns/net`, process.execPath, "-e", RESPONDER_JS, ports.join(","), text],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return new Promise((done, fail) => {
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.once("data", () => done({ stop }));
    child.once("exit", (code) => fail(new Error(`UDP responder in netns of ${pid} exited ${code}: ${err}`)));
    child.once("error", fail);
  });
}

/** One datagram from a fresh socket; the answer, or undefined. */
export function askUdp(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((done) => {
    const s = createSocket("udp4");
    const end = (v: string | undefined) => {
      clearTimeout(timer);
      s.close();
      done(v);
    };
    const timer = setTimeout(() => end(undefined), timeoutMs);
    s.on("message", (m) => end(m.toString().trim()));
    s.on("error", () => end(undefined));
    s.send("who", port, host);
  });
}

/** `n` datagrams, each from a new socket, in turn: their answers (undefined for none). */
export async function udpAnswers(host: string, port: number, n: number): Promise<Array<string | undefined>> {
  const out: Array<string | undefined> = [];
  for (let i = 0; i < n; i++) out.push(await askUdp(host, port));
  return out;
}

/** The argv that runs `udpAnswers` in another process (prefix it with `ip netns exec NS`). */
export function probeArgs(host: string, port: number, n: number, timeoutMs = 1000): string[] {
  return [process.execPath, "-e", PROBE_JS, host, String(port), String(n), String(timeoutMs)];
}

/** `probeArgs` run behind `prefix` (`ip netns exec NS`, `nsenter --net=...`): answers, null for none. */
export function probeFrom(
  prefix: readonly string[],
  host: string,
  port: number,
  n: number,
): Array<string | null> {
  const [cmd = "", ...args] = [...prefix, ...probeArgs(host, port, n)];
  return JSON.parse(execFileSync(cmd, args, { encoding: "utf8" })) as Array<string | null>;
}

/**
 * `service create -d` of `name` whose busybox tasks only sleep (their UDP servers are
 * `startResponder`'s), with `options` before the image.
 */
export function sleeperService(name: string, options: readonly string[]): string[] {
  // no registry lookup for the local image (no traffic off the machine)
  const create = ["service", "create", "-d", "--no-resolve-image", "--name", name];
  return [...create, ...options, "busybox:local", "sleep", "3600"];
}

/**
 * The argv of a process that keeps one socket for `seconds`, sending a datagram every 300 ms, and
 * prints each new distinct answer on a line (run it in another netns, kill it when done).
 */
export function keptFlowArgs(host: string, port: number, seconds: number): string[] {
  return [process.execPath, "-e", KEPT_FLOW_JS, host, String(port), String(seconds)];
}

/** One socket kept open: every datagram is the same conntrack flow. */
export class UdpFlow {
  private readonly socket: Socket = createSocket("udp4");
  private waiting: ((answer: string | undefined) => void) | undefined;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket.on("message", (m) => this.waiting?.(m.toString().trim()));
    // ICMP port unreachable on a connected socket: no answer this time
    this.socket.on("error", () => this.waiting?.(undefined));
  }

  ask(timeoutMs = 1000): Promise<string | undefined> {
    return new Promise((done) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (v: string | undefined) => {
        clearTimeout(timer);
        this.waiting = undefined;
        done(v);
      };
      this.waiting = finish;
      this.socket.send("who", this.port, this.host);
    });
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
