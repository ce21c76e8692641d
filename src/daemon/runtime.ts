/**
 * What an active swarm member runs on this node (the NodeRuntime shape) and the worker's runtime:
 * only the agent, connected to the managers over the cluster API. The manager's runtime is in
 * manager-runtime.ts.
 */
import type { LogLine, LogRequest } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import { ShoalError, unavailable } from "../base/index.ts";
import type { NodeCredentials, NodeRole } from "../ca/index.ts";
import {
  fetchManagers,
  type LogHub,
  RemoteDispatcherConnector,
  type RemoteLogClient,
} from "../clusterapi/index.ts";
import type { TaskLogLine, TaskLogOptions } from "../engineapi/index.ts";
import type { Store } from "../store/types.ts";
import { startAgentRuntime } from "./agent-runtime.ts";
import {
  applyCaSync,
  CA_SYNC_PERIOD_MS,
  type CaSyncDeps,
  keepTrust,
  reportedTlsInfo,
  withTrust,
} from "./ca-sync.ts";
import { ManagerList } from "./manager-list.ts";
import type { NodeKeys } from "./node-keys.ts";
import type { NodeState } from "./node-state.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import { CertificateRenewer } from "./renewal-loop.ts";

export interface RuntimeDeps {
  dataDir: string;
  dockerSocket: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** The node's TLS and data keys, wrapped when autolock is on. */
  keys: NodeKeys;
  /**
   * The node's role changed (promotion or demotion): its certificate already says so; the node
   * restarts its runtime for the new role. `managers` are other managers' cluster API addresses.
   */
  onRoleChange?(role: NodeRole, managers: string[]): void;
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
  /**
   * Before `swarm leave` (managers): refuses without `force` (moby's texts), else gives up this
   * manager's etcd membership when the others keep a quorum.
   */
  prepareLeave?(force: boolean): Promise<void>;
  /**
   * Managers: stops the etcd member ahead of everything else (`swarm init --force-new-cluster`),
   * so the calls still waiting for a quorum that will not come fail at once instead of timing out.
   */
  abandonQuorum?(): Promise<void>;
}

export type Stop = (opts?: { leaving?: boolean }) => Promise<void>;

export function stopper(logger: Logger): { push(stop: Stop): void; stopAll: Stop } {
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

/**
 * A worker: the agent over the cluster API, failing over between the managers it knows (refreshed
 * on every session and saved in state.json), and renewing its certificate.
 */
export async function startWorkerRuntime(deps: RuntimeDeps, state: NodeState): Promise<NodeRuntime> {
  const dir = swarmDir(deps.dataDir);
  let credentials = await requireCredentials(deps.keys, dir);
  if ((state.managers ?? []).length === 0)
    throw unavailable("this worker knows no manager address; leave and join again");
  const logger = deps.logger;
  const managers = new ManagerList(state.managers ?? [], (addrs) => {
    state.managers = addrs;
    saveNodeState(deps.dataDir, state);
    logger.info({ managers: addrs }, "manager list updated");
  });
  const agent = await startAgentRuntime(
    { nodeId: state.nodeId, dockerSocket: deps.dockerSocket, clock: deps.clock, logger },
    (logSource) =>
      new RemoteDispatcherConnector({
        // Each new session tries the next known manager, so a dead one is left behind.
        addr: () => managers.pick(),
        credentials: () => credentials,
        onManagers: (addrs) => managers.update(addrs),
        logSource,
        logger: logger.child({ module: "agent/session" }),
      }),
  );
  const renewer = new CertificateRenewer({
    dir,
    clock: deps.clock,
    ids: deps.ids,
    logger: logger.child({ module: "daemon/renewal" }),
    advertiseAddr: state.advertiseAddr,
    managerAddr: () => managers.pick(),
    credentials: () => credentials,
    save: (c) => deps.keys.saveCredentials(keepTrust(credentials, c)),
    onRenewed: (c, role) => {
      credentials = keepTrust(credentials, c);
      // Promoted: the node restarts as a manager (asynchronously; this runtime is stopped first).
      if (role === "manager") deps.onRoleChange?.(role, [...managers.all]);
    },
  });
  const renewal = new AbortController();
  const renewing = renewer.run(renewal.signal);
  const sync: CaSyncDeps = {
    logger: logger.child({ module: "daemon/ca-sync" }),
    credentials: () => credentials,
    save: (c) => deps.keys.saveCredentials(c),
    trust: (roots) => {
      credentials = withTrust(credentials, roots);
    },
    renewNow: () => renewer.renewNow(),
  };
  const polling = pollManagers(deps.clock, renewal.signal, managers, sync, () => renewer.renewNow());
  return {
    stop: async (opts) => {
      renewal.abort();
      await Promise.all([renewing, polling]);
      await agent.stop(opts);
    },
    taskLogs: (_nodeId, taskId, opts, signal) => agent.taskLogs(taskId, opts, signal),
  };
}

/**
 * Every few seconds: the cluster's manager list (kept for failover), this node's role in the store
 * (a worker whose role became manager renews its certificate, which makes it a manager) and its
 * part in a root rotation (ca-sync.ts).
 */
async function pollManagers(
  clock: Clock,
  signal: AbortSignal,
  managers: ManagerList,
  sync: CaSyncDeps,
  promoted: () => void,
): Promise<void> {
  while (!signal.aborted) {
    await clock.sleep(CA_SYNC_PERIOD_MS, signal).catch(() => undefined);
    for (const addr of signal.aborted ? [] : [...managers.all]) {
      try {
        const creds = sync.credentials();
        const reply = await fetchManagers(addr, creds, reportedTlsInfo(creds));
        managers.update(reply.managers);
        if (reply.role === "manager") promoted();
        await applyCaSync(sync, reply);
        break;
      } catch {
        // try the next manager; the session's own failover reports outages
      }
    }
  }
}

export async function requireCredentials(keys: NodeKeys, dir: string): Promise<NodeCredentials> {
  const creds = await keys.credentials();
  if (!creds)
    throw unavailable(`this node's certificates are missing from ${dir}/certificates; leave and join again`);
  return creds;
}

export function splitListen(listenAddr: string): [string, number] {
  const at = listenAddr.lastIndexOf(":");
  return [listenAddr.slice(0, at) || "0.0.0.0", Number.parseInt(listenAddr.slice(at + 1), 10)];
}

/**
 * Log lines of a task on another node: through this manager's session with that node, or else
 * relayed by the manager that holds its session (`others`: the other managers; asked in turn, a
 * manager that does not hold the session answers "not connected" at once).
 */
export async function* remoteLogs(
  logs: LogHub,
  nodeId: string,
  taskId: string,
  opts: TaskLogOptions,
  signal: AbortSignal,
  others: () => RemoteLogClient[] = () => [],
): AsyncIterable<TaskLogLine> {
  const req: LogRequest = {
    taskIds: [taskId],
    follow: opts.follow,
    stdout: opts.stdout,
    stderr: opts.stderr,
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    ...(typeof opts.tail === "number" ? { tail: opts.tail } : {}),
  };
  const lines = logs.connected(nodeId)
    ? logs.subscribe(nodeId, req, signal)
    : relayed(others(), nodeId, req, signal);
  for await (const line of lines) {
    yield { stream: line.stream, timestamp: line.timestamp, line: line.line };
  }
}

async function* relayed(
  managers: RemoteLogClient[],
  nodeId: string,
  req: LogRequest,
  signal: AbortSignal,
): AsyncIterable<LogLine> {
  let last: unknown = unavailable(`node ${nodeId} is not connected to any manager`);
  for (const manager of managers) {
    const it = manager.logs(nodeId, req, signal)[Symbol.asyncIterator]();
    let first: IteratorResult<LogLine>;
    try {
      first = await it.next();
    } catch (err) {
      if (!ShoalError.is(err, "Unavailable")) throw err;
      last = err;
      continue;
    }
    for (let next = first; !next.done; next = await it.next()) yield next.value;
    return;
  }
  throw last;
}
