/**
 * What an active swarm member runs on this node. A manager: its etcd member, the encrypted store,
 * the Manager (dispatcher + leader loops), the cluster API on the listen address, and its own agent
 * connected in-process. A worker: only the agent, connected to a manager over the cluster API.
 */
import { join } from "node:path";
import type { LogRequest } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import { failedPrecondition, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { loadNodeCredentials } from "../ca/index.ts";
import { ClusterApiServer, LogHub, RemoteDispatcherConnector } from "../clusterapi/index.ts";
import type { TaskLogLine, TaskLogOptions } from "../engineapi/index.ts";
import { defaultEtcdMemberConfig, EtcdMember, etcdDataDir, freePort } from "../etcd/index.ts";
import { Manager, soleLeadership } from "../manager/index.ts";
import { loadOrCreateDataKey } from "../store/encryption.ts";
import { defaultEtcdStoreConfig, EtcdStore } from "../store/etcd.ts";
import type { Store } from "../store/types.ts";
import { startAgentRuntime } from "./agent-runtime.ts";
import { clusterAuthority, clusterSecurity, nodeRegistry } from "./cluster-security.ts";
import type { NodeState } from "./node-state.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import { killStaleEtcd } from "./stale-etcd.ts";

export interface RuntimeDeps {
  dataDir: string;
  dockerSocket: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
}

/** A running swarm member. */
export interface NodeRuntime {
  /** The store, on managers. */
  readonly store?: Store;
  /** Log lines of any task: this node's from the executor, others' through their sessions. */
  taskLogs(
    nodeId: string,
    taskId: string,
    opts: TaskLogOptions,
    signal: AbortSignal,
  ): AsyncIterable<TaskLogLine>;
  /** Stops everything; `leaving` also removes this node's task containers, as `swarm leave` does. */
  stop(opts?: { leaving?: boolean }): Promise<void>;
}

type Stop = (opts?: { leaving?: boolean }) => Promise<void>;

function stopper(logger: Logger): { push(stop: Stop): void; stopAll: Stop } {
  const stops: Stop[] = [];
  return {
    push: (stop) => stops.push(stop),
    stopAll: async (opts) => {
      for (const stop of stops.reverse())
        await stop(opts).catch((err: unknown) => logger.error({ err }, "stop failed"));
      stops.length = 0;
    },
  };
}

export async function startManagerRuntime(
  deps: RuntimeDeps,
  state: NodeState,
  fresh: boolean,
): Promise<NodeRuntime> {
  const { clock, ids, logger } = deps;
  const dir = swarmDir(deps.dataDir);
  if (fresh) state.etcd = { clientPort: await freePort(), peerPort: await freePort() };
  const memberConfig = {
    ...defaultEtcdMemberConfig(state.nodeId, dir),
    clientPort: state.etcd.clientPort,
    peerPort: state.etcd.peerPort,
  };
  await killStaleEtcd(etcdDataDir(memberConfig), logger);
  const member = new EtcdMember(memberConfig, logger.child({ module: "etcd" }), clock);
  await member.start();
  const { push, stopAll } = stopper(logger);
  push(() => member.stop());
  try {
    if (fresh) saveNodeState(deps.dataDir, state);
    const credentials = await requireCredentials(dir);
    const dataKey = await loadOrCreateDataKey(join(dir, "keys"));
    const store = await EtcdStore.open(
      defaultEtcdStoreConfig([member.clientUrl], dataKey),
      logger.child({ module: "store" }),
      clock,
    );
    push(() => store.close());
    const manager = new Manager({
      store,
      clock,
      ids,
      logger: logger.child({ module: "manager" }),
      leadership: soleLeadership,
    });
    const managerRun = new AbortController();
    const managerDone = manager.run(managerRun.signal);
    push(async () => {
      managerRun.abort();
      await managerDone;
    });
    const logs = new LogHub({ ids, logger: logger.child({ module: "clusterapi/logs" }) });
    const server = new ClusterApiServer({
      credentials,
      security: clusterSecurity(store),
      authority: clusterAuthority(store, clock, ids),
      registry: nodeRegistry(store, clock),
      dispatcher: manager.dispatcher,
      logs,
      ids,
      logger: logger.child({ module: "clusterapi" }),
    });
    const [host, port] = splitListen(state.listenAddr);
    await server.listen(port, host).catch((err: NodeJS.ErrnoException) => {
      // moby's wording for the same failure.
      if (err.code === "EADDRINUSE")
        throw failedPrecondition(`listen tcp ${host}:${port}: bind: address already in use`);
      throw err;
    });
    push(() => server.stop());
    const agent = await startAgentRuntime(
      { nodeId: state.nodeId, dockerSocket: deps.dockerSocket, clock, logger },
      () => manager.dispatcher,
    );
    push((opts) => agent.stop(opts));
    return {
      store,
      stop: stopAll,
      taskLogs: (nodeId, taskId, opts, signal) =>
        nodeId === state.nodeId
          ? agent.taskLogs(taskId, opts, signal)
          : remoteLogs(logs, nodeId, taskId, opts, signal),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export async function startWorkerRuntime(deps: RuntimeDeps, state: NodeState): Promise<NodeRuntime> {
  const credentials = await requireCredentials(swarmDir(deps.dataDir));
  const managers = state.managers ?? [];
  if (managers.length === 0) throw unavailable("this worker knows no manager address; leave and join again");
  let next = 0;
  const agent = await startAgentRuntime(
    { nodeId: state.nodeId, dockerSocket: deps.dockerSocket, clock: deps.clock, logger: deps.logger },
    (logSource) =>
      new RemoteDispatcherConnector({
        // Each new session tries the next known manager, so a dead one is left behind.
        addr: () => managers[next++ % managers.length] as string,
        credentials: () => credentials,
        logSource,
        logger: deps.logger.child({ module: "agent/session" }),
      }),
  );
  return {
    stop: (opts) => agent.stop(opts),
    taskLogs: (_nodeId, taskId, opts, signal) => agent.taskLogs(taskId, opts, signal),
  };
}

async function requireCredentials(dir: string): Promise<NodeCredentials> {
  const creds = await loadNodeCredentials(dir);
  if (!creds)
    throw unavailable(`this node's certificates are missing from ${dir}/certificates; leave and join again`);
  return creds;
}

function splitListen(listenAddr: string): [string, number] {
  const at = listenAddr.lastIndexOf(":");
  return [listenAddr.slice(0, at) || "0.0.0.0", Number.parseInt(listenAddr.slice(at + 1), 10)];
}

async function* remoteLogs(
  logs: LogHub,
  nodeId: string,
  taskId: string,
  opts: TaskLogOptions,
  signal: AbortSignal,
): AsyncIterable<TaskLogLine> {
  if (!logs.connected(nodeId)) throw unavailable(`node ${nodeId} is not connected to this manager`);
  const req: LogRequest = {
    taskIds: [taskId],
    follow: opts.follow,
    stdout: opts.stdout,
    stderr: opts.stderr,
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    ...(typeof opts.tail === "number" ? { tail: opts.tail } : {}),
  };
  for await (const line of logs.subscribe(nodeId, req, signal)) {
    yield { stream: line.stream, timestamp: line.timestamp, line: line.line };
  }
}
