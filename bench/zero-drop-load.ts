/**
 * The bounded load generator of bench/zero-drop.sh. Run inside a client container's network
 * namespace (`nsenter --net=/proc/PID/ns/net`), so its connections take the same path as the
 * container's own: shoal's nft VIP rules, or Docker's embedded DNS for Swarm. Every request
 * resolves the service name first (a VIP for shoal, the task addresses in rotation for Swarm's
 * dnsrr) and opens a new connection, as `wget` does.
 *
 * usage: node --import tsx zero-drop-load.ts --name web --dns 10.213.61.1 --stop-file /tmp/x/stop
 *          --out result.json [--fast 6] [--slow 2] [--pause-ms 25] [--timeout-ms 5000]
 *          [--max-requests 200000] [--max-seconds 900] [--addr A --port P]
 * With `--addr` (and `--port`) no name is resolved: every request goes to A:P, e.g. a port the
 * routing mesh publishes, from the host itself.
 * Fast workers fetch `/` (a static file), slow ones `/cgi-bin/slow` (about 1 s on the server).
 * It stops when the stop file appears (or at a bound), then writes one JSON summary.
 */

import { Resolver } from "node:dns/promises";
import { existsSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    name: { type: "string" },
    dns: { type: "string" },
    addr: { type: "string" },
    port: { type: "string", default: "80" },
    "stop-file": { type: "string" },
    out: { type: "string" },
    fast: { type: "string", default: "6" },
    slow: { type: "string", default: "2" },
    "pause-ms": { type: "string", default: "25" },
    "timeout-ms": { type: "string", default: "5000" },
    "max-requests": { type: "string", default: "200000" },
    "max-seconds": { type: "string", default: "900" },
  },
});
for (const k of ["name", "stop-file", "out"] as const) {
  if (!opt[k]) throw new Error(`--${k} is required`);
}
if (!opt.dns && !opt.addr) throw new Error("--dns or --addr is required");
const name = opt.name as string;
const stopFile = opt["stop-file"] as string;
const timeoutMs = Number(opt["timeout-ms"]);
const maxRequests = Number(opt["max-requests"]);
const deadline = Date.now() + Number(opt["max-seconds"]) * 1000;
// glibc's defaults (`timeout:5 attempts:2`), what a libc client in the container would do
const resolver = new Resolver({ timeout: 5000, tries: 2 });
if (opt.dns) resolver.setServers([opt.dns]);
const lookup = async (): Promise<string> => opt.addr ?? (await resolver.resolve4(name))[0] ?? "";

interface Failure {
  /** ms since the start */
  t: number;
  path: string;
  addr: string;
  error: string;
}
const start = Date.now();
const latencies: Record<"fast" | "slow" | "fastHttp", number[]> = { fast: [], slow: [], fastHttp: [] };
const failures: Failure[] = [];
let sent = 0;
const backends = new Map<string, number>();

function get(addr: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      // busybox httpd passes the CGI's bare-LF headers through, which Node's strict parser refuses
      {
        host: addr,
        port: Number(opt.port),
        path,
        agent: false,
        headers: { Host: name },
        timeout: timeoutMs,
        insecureHTTPParser: true,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () =>
          res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const stopping = (): boolean => sent >= maxRequests || Date.now() > deadline || existsSync(stopFile);

async function worker(kind: "fast" | "slow"): Promise<void> {
  const path = kind === "fast" ? "/" : "/cgi-bin/slow";
  const want = kind === "fast" ? "ok" : "slow";
  while (!stopping()) {
    sent++;
    const t0 = performance.now();
    let addr = "";
    try {
      addr = await lookup();
      if (!addr) throw new Error("no address");
      const t1 = performance.now();
      const body = await get(addr, path);
      if (kind === "fast") latencies.fastHttp.push(performance.now() - t1);
      if (body !== want) throw new Error(`unexpected body ${JSON.stringify(body.slice(0, 40))}`);
      latencies[kind].push(performance.now() - t0);
      backends.set(addr, (backends.get(addr) ?? 0) + 1);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      failures.push({ t: Date.now() - start, path, addr, error });
    }
    if (kind === "fast") await new Promise((r) => setTimeout(r, Number(opt["pause-ms"])));
  }
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, i)] as number) * 10) / 10;
}
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: quantile(s, 1) };
};

const workers = [
  ...Array.from({ length: Number(opt.fast) }, () => worker("fast")),
  ...Array.from({ length: Number(opt.slow) }, () => worker("slow")),
];
await Promise.all(workers);
const kinds: Record<string, number> = {};
for (const f of failures) kinds[f.error] = (kinds[f.error] ?? 0) + 1;
writeFileSync(
  opt.out as string,
  `${JSON.stringify({
    sent,
    failed: failures.length,
    duration_s: (Date.now() - start) / 1000,
    latency_ms: {
      fast: summary(latencies.fast),
      slow: summary(latencies.slow),
      // the same fast requests without the DNS lookup
      fast_http: summary(latencies.fastHttp),
    },
    failure_kinds: kinds,
    failures: failures.slice(0, 50),
    addresses_answering: backends.size,
  })}\n`,
);
