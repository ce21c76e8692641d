// Timing helpers for bench/cluster.ts: staggered probes, polling with a deadline, statistics.
import type { ClusterNode, CmdResult } from "../src/devcluster/index.ts";

export const now = (): number => performance.now();
export const secs = (ms: number): number => Math.round(ms / 10) / 100;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Stat {
  n: number;
  min: number | null;
  median: number | null;
  max: number | null;
}

export function stat(values: number[]): Stat {
  if (values.length === 0) return { n: 0, min: null, median: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return {
    n: s.length,
    min: s[0] as number,
    median: Math.round(median * 100) / 100,
    max: s.at(-1) as number,
  };
}

export interface ProbeResult {
  /** Seconds after t0 at which the probe started and ended. */
  start: number;
  end: number;
  ok: boolean;
  out: string;
}

/**
 * Starts `probe` every `everyMs` (each bounded by its own timeout inside `probe`) until one
 * succeeds or `deadlineMs` passes, as shared/bench/real-swarm-measure.sh does for Swarm. Resolves
 * with every probe's outcome once all have ended.
 */
export async function staggered(
  t0: number,
  everyMs: number,
  deadlineMs: number,
  probe: () => Promise<{ ok: boolean; out: string }>,
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const running: Promise<void>[] = [];
  let done = false;
  while (!done && now() - t0 < deadlineMs) {
    const start = now();
    running.push(
      probe().then((r) => {
        results.push({ start: secs(start - t0), end: secs(now() - t0), ...r });
        if (r.ok) done = true;
      }),
    );
    await sleep(everyMs);
  }
  await Promise.all(running);
  return results.sort((a, b) => a.end - b.end);
}

/** The first successful probe's end, in seconds after t0 (undefined if none succeeded). */
export const firstOk = (results: ProbeResult[]): number | undefined => results.find((r) => r.ok)?.end;

/** The distinct failure outputs, most frequent first (what a user saw while it was failing). */
export function failures(results: ProbeResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results.filter((x) => !x.ok)) {
    const key = r.out.replace(/\s+/g, " ").trim().slice(0, 160);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}× ${k}`)
    .join("; ");
}

/** Polls `probe` every `everyMs` until it returns a value; undefined at the deadline. */
export async function until<T>(probe: () => Promise<T | undefined>, deadlineMs: number, everyMs = 250) {
  const end = now() + deadlineMs;
  while (now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  return undefined;
}

/** `docker ARGS` through the node's shoal socket; throws with stderr on failure. */
export async function ok(n: ClusterNode, args: string[], timeoutMs = 60_000): Promise<string> {
  const r: CmdResult = await n.docker(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`node ${n.index}: docker ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Hostname → `Status ManagerStatus` as node 'via' lists them. */
export async function nodeTable(via: ClusterNode, timeoutMs = 5000): Promise<Map<string, string>> {
  const out = await ok(
    via,
    ["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"],
    timeoutMs,
  );
  return new Map(
    out.split("\n").map((l) => {
      const [host, ...rest] = l.trim().split(" ");
      return [host as string, rest.join(" ")];
    }),
  );
}

/** Index of the node `via` shows as Leader. */
export async function leaderIndex(via: ClusterNode, prefix: string): Promise<number | undefined> {
  for (const [host, status] of await nodeTable(via)) {
    if (status.endsWith("Leader")) return Number(host.slice(prefix.length));
  }
  return undefined;
}
