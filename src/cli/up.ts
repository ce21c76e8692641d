/**
 * `shoal up`: a local shoal node with a swarm on it, ready for the docker CLI. Idempotent: a node
 * already running on the socket is reused.
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { engineRequest, errorMessage } from "./engine-client.ts";

export interface UpOptions {
  dataDir: string;
  engineSocket: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function pingable(socket: string): Promise<boolean> {
  try {
    return (await engineRequest(socket, "GET", "/_ping")).status === 200;
  } catch {
    return false;
  }
}

async function startDaemon(opts: UpOptions): Promise<void> {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/shoal");
  mkdirSync(opts.dataDir, { recursive: true });
  const logPath = join(opts.dataDir, "daemon.log");
  const log = openSync(logPath, "a");
  const child = spawn(bin, ["daemon", "--data-dir", opts.dataDir, "--engine-socket", opts.engineSocket], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.unref();
  for (let i = 0; i < 150; i++) {
    if (await pingable(opts.engineSocket)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the daemon did not come up; see ${logPath}`);
}

const DEMO_SERVICE = "demo-web";

/** A small web service with a healthcheck, created once; `up` waits until its replicas run. */
async function deployDemo(socket: string): Promise<void> {
  const existing = await engineRequest(socket, "GET", `/v1.41/services/${DEMO_SERVICE}`);
  if (existing.status === 404) {
    const res = await engineRequest(socket, "POST", "/v1.41/services/create", {
      Name: DEMO_SERVICE,
      Labels: { "shoal.demo": "true" },
      TaskTemplate: {
        ContainerSpec: {
          Image: "busybox:local",
          Args: ["httpd", "-f", "-p", "80", "-h", "/www"],
          Healthcheck: { Test: ["CMD-SHELL", "wget -qO- localhost/"], Interval: 2_000_000_000 },
        },
      },
      Mode: { Replicated: { Replicas: 3 } },
    });
    if (res.status !== 201) throw new Error(`creating the demo service failed: ${errorMessage(res)}`);
    say(`created service ${DEMO_SERVICE}`);
  }
  for (let i = 0; i < 150; i++) {
    const res = await engineRequest(socket, "GET", "/v1.41/services?status=true");
    const services = res.body as Array<{
      Spec?: { Name?: string };
      ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number };
    }>;
    const demo = services.find((s) => s.Spec?.Name === DEMO_SERVICE)?.ServiceStatus;
    if (demo?.DesiredTasks && demo.RunningTasks === demo.DesiredTasks) {
      say(`${DEMO_SERVICE}: ${demo.RunningTasks}/${demo.DesiredTasks} replicas running`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${DEMO_SERVICE} did not converge in 30 s; see \`docker service ps ${DEMO_SERVICE}\``);
}

export async function up(opts: UpOptions): Promise<void> {
  if (await pingable(opts.engineSocket)) {
    say(`shoal node already running on ${opts.engineSocket}`);
  } else {
    say(`starting shoal daemon (data in ${opts.dataDir}) ...`);
    await startDaemon(opts);
  }
  const info = await engineRequest(opts.engineSocket, "GET", "/v1.41/info");
  const swarm = (info.body as { Swarm?: { LocalNodeState?: string } }).Swarm;
  if (swarm?.LocalNodeState !== "active") {
    const res = await engineRequest(opts.engineSocket, "POST", "/v1.41/swarm/init", {
      ListenAddr: "0.0.0.0:2377",
      AdvertiseAddr: "127.0.0.1",
    });
    if (res.status !== 200) throw new Error(`swarm init failed: ${errorMessage(res)}`);
    say(`swarm initialised, node ${String(res.body)}`);
  } else {
    say("swarm already active");
  }
  await deployDemo(opts.engineSocket);
  say("");
  say("Use it with the docker CLI:");
  say(`  export DOCKER_HOST=unix://${opts.engineSocket}`);
  say("  docker info            # Swarm: active");
  say("  docker service ls     # the demo service: 3 healthy web replicas");
  say(`  docker service ps ${DEMO_SERVICE}`);
  say(`  docker service scale ${DEMO_SERVICE}=5`);
  say(`  docker service logs ${DEMO_SERVICE}`);
  say("  docker run --rm busybox:local echo hi   # non-swarm calls go to the local dockerd");
  say("");
  say(`Stop it: kill $(cat ${join(opts.dataDir, "shoal.pid")})`);
}
