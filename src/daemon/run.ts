/**
 * `shoal daemon`: wires one node together (the composition root) and runs it until SIGTERM/SIGINT.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DockerEngine } from "../agent/executor/index.ts";
import { createLogger, RandomIds, SystemClock } from "../base/index.ts";
import { joinCluster } from "../clusterapi/index.ts";
import { EngineApiServer } from "../engineapi/index.ts";
import type { DaemonConfig } from "./config.ts";
import { validateDaemonConfig } from "./config.ts";
import { espProbe } from "./esp-probe.ts";
import { lockDataDir } from "./lock.ts";
import { prepareManagerJoin } from "./manager-membership.ts";
import { startManagerRuntime } from "./manager-runtime.ts";
import { liveDirOf, NodeKeys } from "./node-keys.ts";
import { swarmDir } from "./node-state.ts";
import { startWorkerRuntime } from "./runtime.ts";
import { SwarmNode } from "./swarm-node.ts";

export async function runDaemon(input: DaemonConfig): Promise<void> {
  const config = validateDaemonConfig(input);
  const logger = createLogger({ level: config.logLevel });
  const unlock = lockDataDir(config.dataDir);
  const clock = new SystemClock();
  const ids = new RandomIds();
  const engine = new DockerEngine({ socketPath: config.docker });
  const keys = new NodeKeys(swarmDir(config.dataDir), liveDirOf(config.dataDir));
  const runtimeDeps = { dataDir: config.dataDir, dockerSocket: config.docker, clock, ids, logger, keys };
  const node = new SwarmNode({
    dataDir: config.dataDir,
    clock,
    ids,
    logger: logger.child({ module: "daemon" }),
    keys,
    startRuntime: (state, fresh, onRoleChange) =>
      state.role === "manager"
        ? startManagerRuntime({ ...runtimeDeps, onRoleChange }, state, fresh)
        : startWorkerRuntime({ ...runtimeDeps, onRoleChange }, state),
    join: (addr, token, availability, advertiseAddr) =>
      joinCluster({ addr, token, availability, advertiseAddr, clock }),
    prepareManager: (state, managerAddr, credentials) =>
      prepareManagerJoin(
        state,
        keys,
        managerAddr,
        `${state.advertiseAddr}:${state.listenAddr.slice(state.listenAddr.lastIndexOf(":") + 1)}`,
        credentials,
      ),
    describeNode: () => engine.describe(),
    espSupported: espProbe(logger.child({ module: "daemon/esp" })),
  });
  mkdirSync(dirname(config.engineSocket), { recursive: true });
  const tcp = config.engineTcp ? parseHostPort(config.engineTcp) : undefined;
  const server = new EngineApiServer({
    socketPath: config.engineSocket,
    dockerSocket: config.docker,
    backend: node,
    logger,
    ...(tcp ? { tcp } : {}),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({}, "shutting down");
      await server.stop();
      await node.stop();
      unlock();
    })();
    return stopping;
  };
  try {
    // Serve first: while the swarm resumes, the CLI sees "pending" instead of no daemon at all.
    await server.start();
    await node.start();
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info({ dataDir: config.dataDir, socket: config.engineSocket }, "shoal daemon ready");
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "signal received");
      void stop().then(resolve, (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
}

function parseHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(":");
  return { host: value.slice(0, at) || "127.0.0.1", port: Number.parseInt(value.slice(at + 1), 10) };
}
