/**
 * A local registry (Debian's docker-registry) for a harness instance, listening on the bridge
 * address in the root namespace so that every node (and the test process) reaches it. Nodes' dockerds
 * trust it through `--insecure-registry <harness subnet>`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { BINARIES, type Daemon, spawnDaemon } from "./daemon.ts";
import type { Layout } from "./layout.ts";
import { FatalWait, pidAlive, waitFor } from "./sys.ts";

export interface Registry {
  /** host:port, e.g. 172.16.7.254:5000 */
  readonly addr: string;
  /** The harness image pushed there, e.g. 172.16.7.254:5000/busybox:local */
  readonly image: string;
  /** Its manifest digest (sha256:...) as the registry serves it. */
  readonly digest: string;
  /** `<addr>/busybox@<digest>` */
  readonly ref: string;
  readonly pid: number;
}

export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((done) => {
    const req = request(url, { method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("error", () => done(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function startRegistry(l: Layout): Promise<Daemon> {
  mkdirSync(l.registryDir, { recursive: true });
  const config = join(l.registryDir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(l.registryDir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${l.registryAddr}`,
      "",
    ].join("\n"),
  );
  const d = spawnDaemon("registry", [BINARIES.registry, "serve", config], {
    cgroup: l.registryCgroup,
    log: join(l.logDir, "registry.log"),
  });
  await waitFor(`registry on ${l.registryAddr}`, async () => {
    if (!pidAlive(d.pid)) throw new FatalWait(new Error(`registry exited; see ${d.log}`));
    return (await httpStatus(`http://${l.registryAddr}/v2/`)) === 200;
  });
  return d;
}
