/**
 * Starting and stopping what an active swarm member runs on this node: for a manager, its etcd
 * member, the encrypted store over it and the manager (dispatcher + leader loops); for every
 * member, the agent with the Docker executor.
 */
import { join } from "node:path";
import { DockerEngine, Executor } from "../agent/executor/index.ts";
import { Agent } from "../agent/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import type { TaskLogLine, TaskLogOptions } from "../engineapi/index.ts";
import { defaultEtcdMemberConfig, EtcdMember, etcdDataDir, freePort } from "../etcd/index.ts";
import { Manager, soleLeadership } from "../manager/index.ts";
import { loadOrCreateDataKey } from "../store/encryption.ts";
import { defaultEtcdStoreConfig, EtcdStore } from "../store/etcd.ts";
import type { NodeState } from "./node-state.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import { killStaleEtcd } from "./stale-etcd.ts";
import type { ManagerRuntime } from "./swarm-node.ts";

export interface RuntimeDeps {
  dataDir: string;
  dockerSocket: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

export async function startManagerRuntime(
  deps: RuntimeDeps,
  state: NodeState,
  fresh: boolean,
): Promise<ManagerRuntime> {
  const { clock, ids, logger } = deps;
  const dir = swarmDir(deps.dataDir);
  if (fresh) {
    state.etcd = { clientPort: await freePort(), peerPort: await freePort() };
  }
  const memberConfig = {
    ...defaultEtcdMemberConfig(state.nodeId, dir),
    clientPort: state.etcd.clientPort,
    peerPort: state.etcd.peerPort,
  };
  await killStaleEtcd(etcdDataDir(memberConfig), logger);
  const member = new EtcdMember(memberConfig, logger.child({ module: "etcd" }), clock);
  await member.start();
  const stops: Array<() => Promise<void>> = [() => member.stop()];
  let leaving = false;
  const stopAll = async (opts?: { leaving?: boolean }) => {
    leaving = !!opts?.leaving;
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => logger.error({ err }, "stop failed"));
  };
  try {
    if (fresh) saveNodeState(deps.dataDir, state);
    const dataKey = await loadOrCreateDataKey(join(dir, "keys"));
    const store = await EtcdStore.open(
      defaultEtcdStoreConfig([member.clientUrl], dataKey),
      logger.child({ module: "store" }),
      clock,
    );
    stops.push(() => store.close());
    const manager = new Manager({
      store,
      clock,
      ids,
      logger: logger.child({ module: "manager" }),
      leadership: soleLeadership,
    });
    const managerRun = new AbortController();
    const managerDone = manager.run(managerRun.signal);
    stops.push(async () => {
      managerRun.abort();
      await managerDone;
    });
    const agent = await startAgent(deps, state, manager);
    stops.push(async () => {
      await agent.stop();
      if (leaving) await removeTaskContainers(agent.engine, state.nodeId, logger);
    });
    return {
      store,
      stop: stopAll,
      localTaskLogs: (taskId, opts, signal) => taskLogs(agent.executor, taskId, opts, signal),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The agent on this node, talking to the local manager's dispatcher in-process. */
async function startAgent(
  deps: RuntimeDeps,
  state: NodeState,
  manager: Manager,
): Promise<{ executor: Executor; engine: DockerEngine; stop: () => Promise<void> }> {
  const logger = deps.logger.child({ module: "agent" });
  let report: Agent["reportStatus"] = () => undefined;
  const engine = new DockerEngine({ socketPath: deps.dockerSocket });
  const executor = new Executor({
    engine,
    nodeId: state.nodeId,
    clock: deps.clock,
    logger: logger.child({ module: "agent/executor" }),
    onStatus: (taskId, status) => report({ taskId, status }),
  });
  await executor.adopt();
  const agent = new Agent({
    nodeId: state.nodeId,
    connector: manager.dispatcher,
    executor,
    clock: deps.clock,
    logger,
  });
  report = agent.reportStatus;
  const ac = new AbortController();
  const running = agent.run(ac.signal);
  const stop = async () => {
    ac.abort();
    await running;
    await executor.stop();
  };
  return { executor, engine, stop };
}

/** `swarm leave` removes the node's task containers (moby's Leave does the same). */
async function removeTaskContainers(engine: DockerEngine, nodeId: string, logger: Logger): Promise<void> {
  for (const c of await engine.listTaskContainers({ nodeId })) {
    await engine
      .removeContainer(c.id)
      .catch((err: unknown) => logger.warn({ err, container: c.id }, "remove failed"));
  }
}

/** dockerd prefixes each line with an RFC 3339 nano timestamp when asked; split it off. */
async function* taskLogs(
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
