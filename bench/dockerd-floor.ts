/**
 * The floor under the lifecycle scenario: what dockerd on this machine needs, with no orchestrator
 * at all, to do the container work of `converge` and `heal_after_kill`. Talks to dockerd directly
 * (dockerode) and starts containers as soon as they can be started, so no orchestrator driving the
 * same dockerd can beat these times; the report compares both systems with them.
 *
 * - converge floor: create and start N containers like the scenario's tasks (busybox:local `sleep`,
 *   default bridge network, labels), every container created then started at once, all N in flight
 *   (`--concurrency 0`) or at most C at a time; time until the last start returned (dockerd returns
 *   from a start once the process runs).
 * - heal floor: `docker kill` (the CLI, as the scenario does) of one such container; on its `die`
 *   event a new container is created and started at once; time from the kill until that start returned.
 * - cli: how long one `docker service ps`-sized CLI call takes here (`docker version`), the cost the
 *   scenario adds to every poll.
 *
 * usage: node --import tsx bench/dockerd-floor.ts [--ns 10,20,50,100] [--reps 3] [--concurrency 0,4]
 * Prints one JSON line per measurement. Removes every container it made (label io.shoal.bench-floor).
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import Docker from "dockerode";

const { values: opt } = parseArgs({
  options: {
    ns: { type: "string", default: "10,20,50,100" },
    reps: { type: "string", default: "3" },
    concurrency: { type: "string", default: "0,4" },
    image: { type: "string", default: "busybox:local" },
  },
});
const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const LABEL = "io.shoal.bench-floor";
const run = `floor${process.pid}`;
let serial = 0;

async function createAndStart(): Promise<string> {
  const name = `${run}.${++serial}`;
  const c = await docker.createContainer({
    name,
    Image: opt.image,
    Cmd: ["sleep", "100000"],
    Labels: { [LABEL]: run },
    HostConfig: { NetworkMode: "default" },
    StopTimeout: 1,
  });
  await c.start();
  return c.id;
}

/** Runs `jobs` with at most `limit` in flight (0: all at once). */
async function bounded<T>(count: number, limit: number, job: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      out.push(await job());
    }
  };
  await Promise.all(Array.from({ length: limit > 0 ? Math.min(limit, count) : count }, worker));
  return out;
}

async function removeAll(): Promise<void> {
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } });
  await bounded(left.length, 8, async () => {
    const c = left.pop();
    if (c) await docker.getContainer(c.Id).remove({ force: true });
  });
}

async function convergeFloor(n: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  await bounded(n, concurrency, createAndStart);
  return performance.now() - t0;
}

async function healFloor(): Promise<number> {
  const victim = await createAndStart();
  const events = (await docker.getEvents({
    filters: { type: ["container"], event: ["die"], label: [`${LABEL}=${run}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const t0 = performance.now();
  const replaced = new Promise<number>((resolve, reject) => {
    events.on("data", (chunk: Buffer) => {
      if (!chunk.toString().includes(victim)) return;
      createAndStart().then(() => resolve(performance.now() - t0), reject);
    });
  });
  execFileSync("docker", ["kill", victim], { stdio: "ignore" });
  const ms = await replaced;
  events.destroy();
  return ms;
}

function cliMs(): number {
  const t0 = performance.now();
  execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { stdio: "ignore" });
  return performance.now() - t0;
}

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const reps = Number(opt.reps);
try {
  for (const n of opt.ns.split(",").map(Number)) {
    for (const c of opt.concurrency.split(",").map(Number)) {
      for (let r = 1; r <= reps; r++) {
        emit({
          step: "converge_floor",
          n,
          concurrency: c,
          rep: r,
          ms: Math.round(await convergeFloor(n, c)),
        });
        await removeAll();
      }
    }
  }
  for (let r = 1; r <= reps; r++) {
    emit({ step: "heal_floor", rep: r, ms: Math.round(await healFloor()) });
    await removeAll();
  }
  for (let r = 1; r <= reps; r++) emit({ step: "cli", rep: r, ms: Math.round(cliMs()) });
} finally {
  await removeAll();
}
