/**
 * For bench/zero-drop.sh on shoal: how long before its stop signal a going task left the client's
 * load-balancing rules. Polls the client container's nft VIP table (every `--every-ms`) and
 * dockerd's `kill` events for the service's containers until the stop file appears, then asks the
 * shoal API for each killed task's address and writes, per stop signal, the time since that
 * address was last seen in the client's rules (under the poll period: it was still there).
 *
 * usage: node --import tsx zero-drop-watch.ts --pid CLIENT_PID --service web --shoal unix:///x.sock
 *          --stop-file F --out F [--every-ms 50]
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs, promisify } from "node:util";

const run = promisify(execFile);
const { values: opt } = parseArgs({
  options: {
    pid: { type: "string" },
    service: { type: "string" },
    shoal: { type: "string" },
    "stop-file": { type: "string" },
    out: { type: "string" },
    "every-ms": { type: "string", default: "50" },
  },
});
const every = Number(opt["every-ms"]);
/** address → the times (ms) it was seen as a backend in the client's rules (a new task may reuse it) */
const seenAt = new Map<string, number[]>();
/** Stop signals, with the task's address asked for at once (a removed task is deleted soon after). */
const kills: Array<{ at: number; task: string; addrs: Promise<string[]> }> = [];

const events = spawn("docker", [
  "-H",
  "unix:///var/run/docker.sock",
  "events",
  "--filter",
  `label=com.docker.swarm.service.name=${opt.service}`,
  "--filter",
  "event=kill",
  "--format",
  "{{.TimeNano}} {{.Actor.Attributes.name}}",
]);
let partial = "";
events.stdout.on("data", (d: Buffer) => {
  const lines = (partial + d.toString()).split("\n");
  partial = lines.pop() ?? "";
  for (const line of lines.filter(Boolean)) {
    const [nano, name] = line.split(" ");
    const task = name?.split(".").at(-1) ?? "";
    kills.push({ at: Number(BigInt(nano ?? "0") / 1_000_000n), task, addrs: addressesOf(task) });
  }
});

const deadline = Date.now() + 900_000;
while (!existsSync(opt["stop-file"] as string) && Date.now() < deadline) {
  const t = Date.now();
  try {
    const netns = `--net=/proc/${opt.pid}/ns/net`;
    const { stdout } = await run("nsenter", [netns, "nft", "list", "table", "ip", "shoal_vip"]);
    // the backends are the DNAT targets: `dnat to X` or the map's `N : X` entries
    for (const m of stdout.matchAll(/(?:dnat to|\d+ :) (\d+\.\d+\.\d+\.\d+)/g)) {
      const addr = m[1] as string;
      const times = seenAt.get(addr) ?? [];
      times.push(t);
      seenAt.set(addr, times);
    }
  } catch {
    // the table may be mid-reload; the next poll sees it
  }
  await new Promise((r) => setTimeout(r, Math.max(0, every - (Date.now() - t))));
}
events.kill();

/** The task's addresses on all its networks (ingress too), none once the task is gone. */
async function addressesOf(taskId: string): Promise<string[]> {
  if (!taskId) return [];
  try {
    const { stdout } = await run("docker", [
      ...["-H", opt.shoal as string, "inspect", "--type", "task", taskId],
      ...["--format", "{{json .NetworksAttachments}}"],
    ]);
    const atts = JSON.parse(stdout) as Array<{ Addresses?: string[] }> | null;
    return (atts ?? []).flatMap((a) => a.Addresses ?? []).map((a) => a.split("/")[0] ?? "");
  } catch {
    return [];
  }
}

const stops = [];
for (const k of kills) {
  // the one on the client's network is the one its rules name
  const addrs = await k.addrs;
  const addr = addrs.find((a) => seenAt.has(a)) ?? addrs[0];
  if (!addr) continue;
  const seen = (seenAt.get(addr) ?? []).filter((t) => t <= k.at).at(-1);
  stops.push({ task: k.task, addr, left_rules_before_stop_ms: seen === undefined ? null : k.at - seen });
}
writeFileSync(opt.out as string, `${JSON.stringify({ poll_ms: every, stops })}\n`);
