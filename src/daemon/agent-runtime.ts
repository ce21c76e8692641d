/**
 * The agent side every swarm member runs: the Docker executor and the agent's session with a
 * dispatcher (in-process on a manager, over the cluster API on a worker).
 */
import { DockerNetworks } from "../agent/executor/docker-networks.ts";
import { DockerEngine, Executor } from "../agent/executor/index.ts";
import { Agent, type TaskExecutor } from "../agent/index.ts";
import {
  alive,
  DataPlane,
  DnsServer,
  linkExists,
  loadNodeRuleset,
  loadRuleset,
  NetworkedEngine,
  NodeMesh,
  run,
  runIn,
} from "../agent/network/index.ts";
import { TmpfsTaskFiles } from "../agent/secrets/index.ts";
import type { DispatcherConnector, LogLine, LogRequest, TaskLogSource } from "../api/index.ts";
import type { Clock, Logger } from "../base/index.ts";
import type { TaskLogLine, TaskLogOptions } from "../engineapi/index.ts";

export interface AgentRuntime {
  executor: Executor;
  /** Log lines of a task container on this node. */
  taskLogs(taskId: string, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<TaskLogLine>;
  /** Answers managers' log subscriptions for this node's tasks. */
  logSource: TaskLogSource;
  stop(opts?: { leaving?: boolean }): Promise<void>;
}

export interface AgentRuntimeDeps {
  nodeId: string;
  dockerSocket: string;
  clock: Clock;
  logger: Logger;
}

/** Builds the executor and log source; `connect` starts the agent once the connector exists. */
export async function startAgentRuntime(
  deps: AgentRuntimeDeps,
  connector: (logSource: TaskLogSource) => DispatcherConnector,
): Promise<AgentRuntime> {
  const logger = deps.logger.child({ module: "agent" });
  let report: Agent["reportStatus"] = () => undefined;
  const engine = new DockerEngine({ socketPath: deps.dockerSocket });
  const files = new TmpfsTaskFiles();
  // the data plane (agent/network): local bridges for swarm networks, service DNS, VIP rules
  const networks = new DockerNetworks({ socketPath: deps.dockerSocket, nodeId: deps.nodeId });
  const netLogger = logger.child({ module: "agent/network" });
  let plane: DataPlane | undefined;
  const dns = new DnsServer(
    {
      peers: () => plane?.peers(),
      networksOf: (client, server) => plane?.networksOf(client, server) ?? new Set<string>(),
    },
    netLogger,
  );
  plane = new DataPlane({
    driver: networks,
    loadRuleset,
    logger: netLogger,
    dns,
    nodeId: deps.nodeId,
    run,
    linkExists,
    // the routing mesh: the table and DOCKER-USER rules carry this daemon's pid
    mesh: new NodeMesh({ pid: process.pid, run, loadRuleset: loadNodeRuleset, alive, logger: netLogger }),
    // policy routes in task containers: the mesh keeps client addresses
    netnsRun: runIn,
  });
  const dataPlane = plane;
  const executor = new Executor({
    engine: new NetworkedEngine(engine, dataPlane, networks),
    environment: (task) => ({ networks: dataPlane.endpointsFor(task) }),
    nodeId: deps.nodeId,
    clock: deps.clock,
    logger: logger.child({ module: "agent/executor" }),
    onStatus: (taskId, status) => report({ taskId, status }),
    // secrets and configs: a tmpfs per task under /run/shoal/secrets (agent/secrets)
    files,
  });
  dataPlane.bind(engine);
  await executor.adopt();
  // the data plane converges first, so bridges exist before the executor creates containers and a
  // task leaves the VIP backends before its container is stopped
  const taskExecutor: TaskExecutor = {
    describeNode: () => executor.describeNode(),
    assign: async (tasks, payloads, peers) => {
      await dataPlane.update(tasks, peers);
      await executor.assign(tasks, payloads);
    },
  };
  const taskLogs = (taskId: string, opts: TaskLogOptions, signal: AbortSignal) =>
    containerLogs(executor, taskId, opts, signal);
  const logSource: TaskLogSource = { logs: (req, signal) => logLines(taskLogs, req, signal) };
  const agent = new Agent({
    nodeId: deps.nodeId,
    connector: connector(logSource),
    executor: taskExecutor,
    clock: deps.clock,
    logger,
  });
  report = agent.reportStatus;
  const ac = new AbortController();
  const running = agent.run(ac.signal);
  return {
    executor,
    taskLogs,
    logSource,
    stop: async (opts) => {
      ac.abort();
      await running;
      await executor.stop();
      dataPlane.stop();
      dns.closeAll();
      if (opts?.leaving) {
        await removeTaskContainers(engine, files, deps.nodeId, logger);
        await dataPlane.removeAll();
      }
    },
  };
}

/** `swarm leave` removes the node's task containers (moby's Leave does the same) and their secrets. */
async function removeTaskContainers(
  engine: DockerEngine,
  files: TmpfsTaskFiles,
  nodeId: string,
  logger: Logger,
): Promise<void> {
  for (const c of await engine.listTaskContainers({ nodeId })) {
    await engine
      .removeContainer(c.id)
      .catch((err: unknown) => logger.warn({ err, container: c.id }, "remove failed"));
    await files
      .remove(c.taskId)
      .catch((err: unknown) => logger.warn({ err, "task.id": c.taskId }, "removing secret files failed"));
  }
}

/** dockerd prefixes each line with an RFC 3339 nano timestamp when asked; split it off. */
async function* containerLogs(
  executor: Executor,
  taskId: string,
  opts: TaskLogOptions,
  signal: AbortSignal,
): AsyncIterable<TaskLogLine> {
  for await (const { stream, line } of executor.logs(
    taskId,
    { ...opts, timestamps: true, details: false },
    signal,
  )) {
    const space = line.indexOf(32);
    yield { stream, timestamp: line.subarray(0, space).toString(), line: line.subarray(space + 1) };
  }
}

/** The protocol's LogRequest (several tasks) as merged LogLines. */
async function* logLines(
  taskLogs: (taskId: string, opts: TaskLogOptions, signal: AbortSignal) => AsyncIterable<TaskLogLine>,
  req: LogRequest,
  signal: AbortSignal,
): AsyncIterable<LogLine> {
  const opts: TaskLogOptions = {
    follow: req.follow,
    stdout: req.stdout,
    stderr: req.stderr,
    ...(req.since !== undefined ? { since: req.since } : {}),
    ...(req.tail !== undefined ? { tail: req.tail } : {}),
  };
  for (const taskId of req.taskIds) {
    for await (const l of taskLogs(taskId, opts, signal)) yield { taskId, ...l };
  }
}
