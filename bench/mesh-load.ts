/**
 * The bounded load generator of bench/mesh.sh: `--concurrency` workers send GETs to one URL for
 * `--seconds` (at most `--max-requests` in all), each on a new connection (every request is a new
 * flow through the mesh's DNAT, as short-lived clients make them) unless `--keepalive`. Prints one
 * JSON summary: requests, errors, requests/s, latency percentiles in ms, answers per backend.
 *
 * usage: node --import tsx bench/mesh-load.ts --url http://10.0.0.5/ [--seconds 10]
 *          [--concurrency 8] [--max-requests 200000] [--timeout-ms 3000] [--keepalive]
 *          [--local-address 10.1.2.3]   (the client address to connect from)
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "8" },
    "max-requests": { type: "string", default: "200000" },
    "timeout-ms": { type: "string", default: "3000" },
    keepalive: { type: "boolean", default: false },
    "local-address": { type: "string" },
  },
});
if (!opt.url) throw new Error("--url is required");
const url = new URL(opt.url);
const deadline = Date.now() + Number(opt.seconds) * 1000;
const maxRequests = Number(opt["max-requests"]);
const timeoutMs = Number(opt["timeout-ms"]);
const agent = opt.keepalive ? new Agent({ keepAlive: true, maxSockets: Number(opt.concurrency) }) : false;

const latencies: number[] = [];
const errors = new Map<string, number>();
const backends = new Map<string, number>();
let sent = 0;

function once(): Promise<void> {
  const t0 = performance.now();
  return new Promise((done) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port || 80,
        path: url.pathname,
        agent,
        timeout: timeoutMs,
        localAddress: opt["local-address"],
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => {
          latencies.push(performance.now() - t0);
          const b = body.trim();
          backends.set(b, (backends.get(b) ?? 0) + 1);
          done();
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const k = err.code ?? err.message;
      errors.set(k, (errors.get(k) ?? 0) + 1);
      done();
    });
    req.end();
  });
}

async function worker(): Promise<void> {
  while (Date.now() < deadline && sent < maxRequests) {
    sent++;
    await once();
  }
}

const start = performance.now();
await Promise.all(Array.from({ length: Number(opt.concurrency) }, worker));
const seconds = (performance.now() - start) / 1000;
if (agent) agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p: number) => {
  const v = latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return v === undefined ? null : Math.round(v * 100) / 100;
};
process.stdout.write(
  `${JSON.stringify({
    url: opt.url,
    keepalive: opt.keepalive,
    concurrency: Number(opt.concurrency),
    seconds: Math.round(seconds * 100) / 100,
    requests: latencies.length,
    errors: Object.fromEntries(errors),
    rps: Math.round(latencies.length / seconds),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: pct(100),
    backends: Object.fromEntries(backends),
  })}\n`,
);
