/**
 * Clients of the routing mesh for the single-node tests: a network namespace behind a veth pair
 * (a "remote" client whose packets the host forwards, so the mesh sees the client's own address)
 * and one HTTP GET on a fresh connection (each one a new mesh connection), for the cluster tests too.
 */
import { execFileSync } from "node:child_process";
import { request } from "node:http";

/** A netns `name` whose eth0 has `clientAddr`/30 and routes everything via the host's `hostAddr`. */
export class ClientNetns {
  constructor(
    readonly name: string,
    private readonly veth: string,
    readonly hostAddr: string,
    readonly clientAddr: string,
  ) {}

  /** Throws at the first step that fails (the test needs root and iproute2). */
  create(): void {
    const { name, veth, hostAddr, clientAddr } = this;
    const must = (cmd: string[]) => execFileSync(cmd[0] ?? "", cmd.slice(1));
    must(["ip", "netns", "add", name]);
    must(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name]);
    must(["ip", "addr", "add", `${hostAddr}/30`, "dev", veth]);
    must(["ip", "link", "set", veth, "up"]);
    must(["ip", "-n", name, "addr", "add", `${clientAddr}/30`, "dev", "eth0"]);
    must(["ip", "-n", name, "link", "set", "eth0", "up"]);
    must(["ip", "-n", name, "link", "set", "lo", "up"]);
    must(["ip", "-n", name, "route", "add", "default", "via", hostAddr]);
  }

  /** Also after a `create()` that failed half way: what does not exist is skipped. */
  remove(): void {
    for (const cmd of [
      ["ip", "netns", "del", this.name],
      ["ip", "link", "del", this.veth],
    ]) {
      try {
        execFileSync(cmd[0] ?? "", cmd.slice(1), { stdio: "ignore" });
      } catch {
        // not there (any more)
      }
    }
  }
}

export type GetResult = { ok: true; body: string } | { ok: false; error: string };

/** One HTTP GET on a fresh connection, 3 s at most (lenient: busybox httpd's headers). */
export function httpGet(host: string, port: number, path = "/"): Promise<GetResult> {
  return new Promise((done) => {
    const req = request(
      { host, port, path, agent: false, timeout: 3000, insecureHTTPParser: true },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => done({ ok: true, body: body.trim() }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.end();
  });
}

/** httpGet of `/`: the trimmed body, or undefined on any failure. */
export const meshGet = (host: string, port: number): Promise<string | undefined> =>
  httpGet(host, port).then((r) => (r.ok ? r.body : undefined));
