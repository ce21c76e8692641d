/**
 * The floor under the lifecycle scenario (bench/lifecycle.sh): how long its converge, scale_up and
 * heal_after_kill steps would take on this machine if the orchestrator cost nothing, i.e. only
 * dockerd's container work plus what the scenario itself adds. No orchestrator driving the same
 * dockerd can be faster; lifecycle-compare.sh puts these times beside Swarm's and shoal's.
 *
 * Containers are made like the scenario's tasks (busybox:local `sleep`, default bridge network,
 * labels, created then started at once, all in flight together: with a bounded number in flight
 * dockerd was slower here). dockerd's start call returns once the process runs.
 * - poll: one docker CLI round trip (`docker version`), a lower bound for the scenario's
 *   `docker service ps` poll, which it needs at least once after the work is done.
 * - converge: N containers created and started, + one poll.
 * - scale_up: N more beside the N running, + one poll.
 * - heal_after_kill: `docker kill` (the CLI, as the scenario) of one container, and on its `die` event
 *   a new container created and started; the scenario sleeps 0.3 s after the kill before its first
 *   poll, so the floor is max(kill → replacement started, kill CLI + 0.3 s) + one poll.
 *
 * usage: node --import tsx bench/dockerd-floor.ts [--n 10] [--image busybox:local]
 * Prints one JSON line per step ({"step","n","ms", parts...}) like lifecycle.sh. Removes every
 * container it made (label io.shoal.bench-floor).
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import Docker from "dockerode";

const { values: opt } = parseArgs({
  options: { n: { type: "string", default: "10" }, image: { type: "string", default: "busybox:local" } },
});
const N = Number(opt.n);
const SCENARIO_SLEEP_MS = 300;
const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const LABEL = "io.shoal.bench-floor";
const run = `floor${process.pid}`;
let serial = 0;

async function createAndStart(): Promise<string> {
  const c = await docker.createContainer({
    name: `${run}.${++serial}`,
    Image: opt.image,
    Cmd: ["sleep", "100000"],
    Labels: { [LABEL]: run },
    HostConfig: { NetworkMode: "default" },
    StopTimeout: 1,
  });
  await c.start();
  return c.id;
}

async function many(count: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, createAndStart));
  return performance.now() - t0;
}

function cli(args: string[]): number {
  const t0 = performance.now();
  execFileSync("docker", args, { stdio: "ignore" });
  return performance.now() - t0;
}

/** kill → replacement started, and how long the kill CLI itself took. */
async function heal(victim: string): Promise<{ ms: number; killMs: number }> {
  const events = (await docker.getEvents({
    filters: { type: ["container"], event: ["die"], label: [`${LABEL}=${run}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const t0 = performance.now();
  const replaced = new Promise<number>((resolve, reject) => {
    events.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes(victim))
        createAndStart().then(() => resolve(performance.now() - t0), reject);
    });
  });
  const killMs = cli(["kill", victim]);
  const ms = await replaced;
  events.destroy();
  return { ms, killMs };
}

async function removeAll(): Promise<void> {
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } });
  for (let i = 0; i < left.length; i += 8) {
    await Promise.all(left.slice(i, i + 8).map((c) => docker.getContainer(c.Id).remove({ force: true })));
  }
}

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const round = (ms: number) => Math.round(ms);
try {
  const polls = [0, 1, 2]
    .map(() => cli(["version", "--format", "{{.Server.Version}}"]))
    .sort((a, b) => a - b);
  const poll = polls[1] ?? 0;
  const converge = await many(N);
  emit({
    step: "converge",
    n: N,
    ms: round(converge + poll),
    containers_ms: round(converge),
    poll_ms: round(poll),
  });
  const scale = await many(N);
  emit({
    step: "scale_up",
    n: 2 * N,
    ms: round(scale + poll),
    containers_ms: round(scale),
    poll_ms: round(poll),
  });
  const victim = (await docker.listContainers({ filters: { label: [`${LABEL}=${run}`] } }))[0]?.Id;
  if (!victim) throw new Error("no running container to kill");
  const h = await heal(victim);
  emit({
    step: "heal_after_kill",
    n: 1,
    ms: round(Math.max(h.ms, h.killMs + SCENARIO_SLEEP_MS) + poll),
    containers_ms: round(h.ms),
    kill_cli_ms: round(h.killMs),
    poll_ms: round(poll),
  });
} finally {
  await removeAll();
}
