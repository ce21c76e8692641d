/**
 * What a manager runs: its etcd member (peers over mutual TLS on the advertise address, clients on
 * loopback), the encrypted store, the Manager (dispatcher on every manager; controller loops while
 * it wins the etcd lease election), the cluster API on the listen address, its own agent connected
 * in-process, and certificate renewal.
 */
import type { DispatcherConnector } from "../api/index.ts";
import type { Clock, Logger } from "../base/index.ts";
import { failedPrecondition, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { credentialPaths, MANAGER_OU } from "../ca/index.ts";
import { ClusterApiServer, LogHub, RemoteLogClient, renewCertificate } from "../clusterapi/index.ts";
import type { EtcdMemberConfig } from "../etcd/index.ts";
import {
  canRemoveMember,
  defaultEtcdMemberConfig,
  EtcdMember,
  EtcdMembership,
  etcdDataDir,
  freePort,
} from "../etcd/index.ts";
import {
  defaultManagerStatusTiming,
  electionLeadership,
  Manager,
  runManagerStatus,
} from "../manager/index.ts";
import { defaultEtcdElectionConfig, EtcdLeaderElection, electionCandidates } from "../store/election-etcd.ts";
import { loadOrCreateDataKey } from "../store/encryption.ts";
import { defaultEtcdStoreConfig, EtcdStore } from "../store/etcd.ts";
import { createEtcdClient } from "../store/etcd-client.ts";
import type { Store } from "../store/types.ts";
import { startAgentRuntime } from "./agent-runtime.ts";
import { keepTrust, runCaSync, withTrust } from "./ca-sync.ts";
import { clusterAuthority, clusterSecurity, nodeRegistry } from "./cluster-security.ts";
import { watchDemotion } from "./demotion.ts";
import { runEtcdReaper } from "./etcd-reaper.ts";
import { EtcdReloader } from "./etcd-trust.ts";
import { watchUnlockKey } from "./kek-watch.ts";
import { leaveRefusal, managerStats } from "./leave.ts";
import { managerAddrs, storeMembership } from "./manager-membership.ts";
import type { LiveTlsFiles } from "./node-keys.ts";
import type { NodeState } from "./node-state.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import { CertificateRenewer } from "./renewal-loop.ts";
import type { NodeRuntime, RuntimeDeps } from "./runtime.ts";
import { remoteLogs, requireCredentials, splitListen, stopper } from "./runtime.ts";
import { killStaleEtcd } from "./stale-etcd.ts";

/**
 * The local member's settings from the node's state. Its certificate and key are the node's own,
 * from the plain copies in memory-backed storage (`live`): on disk the key may be wrapped.
 */
export function memberConfigOf(state: NodeState, dir: string, live: LiveTlsFiles): EtcdMemberConfig {
  const tls = state.etcd.peerTls
    ? {
        peerListenAddress: state.advertiseAddr,
        peerAdvertiseAddress: state.advertiseAddr,
        peerTls: {
          certFile: live.certFile,
          keyFile: live.keyFile,
          trustedCAFile: credentialPaths(dir).rootCA,
          // Only managers' certificates name `swarm-manager`: a worker's is refused as a peer.
          allowedHostname: MANAGER_OU,
        },
      }
    : {};
  const joining = state.etcd.initialCluster
    ? { initialCluster: state.etcd.initialCluster, initialClusterState: "existing" as const }
    : {};
  return {
    ...defaultEtcdMemberConfig(state.nodeId, dir),
    clientPort: state.etcd.clientPort,
    peerPort: state.etcd.peerPort,
    ...tls,
    ...joining,
    ...(state.etcd.forceNewCluster ? { forceNewCluster: true } : {}),
  };
}

export async function startManagerRuntime(
  deps: RuntimeDeps,
  state: NodeState,
  fresh: boolean,
): Promise<NodeRuntime> {
  const { clock, ids, logger } = deps;
  const dir = swarmDir(deps.dataDir);
  if (fresh) state.etcd = { clientPort: await freePort(), peerPort: await freePort(), peerTls: true };
  const { keys } = deps;
  let credentials = await requireCredentials(keys, dir);
  const { push, stopAll } = stopper(logger);
  const live = await keys.openLive(credentials);
  push(() => keys.closeLive());
  try {
    const memberConfig = memberConfigOf(state, dir, live);
    await killStaleEtcd(etcdDataDir(memberConfig), logger);
    const member = new EtcdMember(memberConfig, logger.child({ module: "etcd" }), clock);
    await member.start();
    push(() => member.stop());
    if (fresh) saveNodeState(deps.dataDir, state);
    const dataKey = await loadOrCreateDataKey(keys.dataKeys());
    const store = await EtcdStore.open(
      defaultEtcdStoreConfig([member.clientUrl], dataKey),
      logger.child({ module: "store" }),
      clock,
    );
    push(() => store.close());
    const etcd = createEtcdClient([member.clientUrl]);
    push(async () => etcd.close());
    const membership = new EtcdMembership(etcd, clock, logger.child({ module: "etcd/membership" }));
    const electionConfig = defaultEtcdElectionConfig(state.nodeId);
    const election = new EtcdLeaderElection(
      etcd,
      electionConfig,
      logger.child({ module: "election" }),
      clock,
    );
    const manager = new Manager({
      store,
      clock,
      ids,
      logger: logger.child({ module: "manager" }),
      leadership: electionLeadership(election, clock, logger.child({ module: "manager/leadership" })),
      loops: [
        {
          name: "manager-status",
          run: (d, signal) =>
            runManagerStatus(
              d,
              {
                selfId: state.nodeId,
                liveManagers: () => electionCandidates(etcd, electionConfig.name),
                ...defaultManagerStatusTiming,
              },
              signal,
            ),
        },
        {
          name: "etcd-reaper",
          run: (d, signal) =>
            runEtcdReaper(
              {
                ...d,
                membership,
                liveManagers: () => electionCandidates(etcd, electionConfig.name),
              },
              signal,
            ),
        },
      ],
    });
    const managerRun = new AbortController();
    const managerDone = manager.run(managerRun.signal);
    const stopManager = async () => {
      managerRun.abort();
      await managerDone;
    };
    push(stopManager);
    const logs = new LogHub({ ids, logger: logger.child({ module: "clusterapi/logs" }) });
    const registry = nodeRegistry(store, clock);
    const server = new ClusterApiServer({
      credentials,
      security: clusterSecurity(store),
      authority: clusterAuthority(store, clock, ids),
      registry,
      dispatcher: manager.dispatcher,
      logs,
      membership: storeMembership(store, membership, dataKey, clock),
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
    // The local agent's session does not cross the cluster API, which records the address a session
    // comes from (Status.Addr: other nodes' overlay entries point there); the advertise address is it.
    const local: DispatcherConnector = {
      openSession: async (nodeId, description) => {
        const session = await manager.dispatcher.openSession(nodeId, description);
        registry.sessionOpened?.(nodeId, state.advertiseAddr);
        return session;
      },
    };
    const agent = await startAgentRuntime(
      { nodeId: state.nodeId, dockerSocket: deps.dockerSocket, clock, logger },
      () => local,
    );
    push((opts) => agent.stop(opts));
    // Other managers relay this node's task logs through this manager's log hub.
    const detachLogs = logs.attachLocal(state.nodeId, agent.logSource);
    push(async () => detachLogs());
    const renewer = new CertificateRenewer({
      dir,
      clock,
      ids,
      logger: logger.child({ module: "daemon/renewal" }),
      advertiseAddr: state.advertiseAddr,
      // Its own cluster API: any manager can sign.
      managerAddr: () => `${state.advertiseAddr}:${port}`,
      credentials: () => credentials,
      save: (c) => keys.saveCredentials(keepTrust(credentials, c)),
      onRenewed: (c: NodeCredentials) => {
        credentials = keepTrust(credentials, c);
        server.updateCredentials(credentials);
      },
    });
    const renewal = new AbortController();
    const renewing = renewer.run(renewal.signal);
    const etcdReloader = new EtcdReloader({
      nodeId: state.nodeId,
      clock,
      logger: logger.child({ module: "daemon/etcd-trust" }),
      member,
      managerIds: () =>
        store.view((tx) =>
          tx
            .list("nodes")
            .filter((n) => n.Spec?.Role === "manager")
            .map((n) => n.ID),
        ),
    });
    const syncing = runCaSync(
      {
        clock,
        addr: `${state.advertiseAddr}:${port}`,
        logger: logger.child({ module: "daemon/ca-sync" }),
        credentials: () => credentials,
        save: (c) => keys.saveCredentials(c),
        trust: (roots, rootChanged) => {
          credentials = withTrust(credentials, roots);
          server.updateCredentials(credentials);
          if (rootChanged) etcdReloader.request(renewal.signal);
        },
        renewNow: () => renewer.renewNow(),
      },
      renewal.signal,
    );
    const watching = watchDemotion(
      {
        nodeId: state.nodeId,
        store,
        membership,
        member,
        clock,
        logger: logger.child({ module: "daemon/demotion" }),
        renew: async (addr) =>
          (await renewCertificate({ addr, credentials, advertiseAddr: state.advertiseAddr, clock }))
            .credentials,
        save: (c) => keys.saveCredentials(c),
        stopManager,
        demoted: (managers) => deps.onRoleChange?.("worker", managers),
      },
      renewal.signal,
    );
    const kekWatching = watchUnlockKey(
      { store, keys, clock, logger: logger.child({ module: "daemon/autolock" }) },
      renewal.signal,
    );
    push(async () => {
      renewal.abort();
      await Promise.all([renewing, syncing, watching, kekWatching, etcdReloader.done()]);
    });
    return {
      store,
      stop: stopAll,
      taskLogs: (nodeId, taskId, opts, signal) =>
        nodeId === state.nodeId
          ? agent.taskLogs(taskId, opts, signal)
          : remoteLogs(logs, nodeId, taskId, opts, signal, () =>
              otherManagers(store, state.nodeId).map((addr) => new RemoteLogClient(addr, () => credentials)),
            ),
      prepareLeave: (force) =>
        leaveEtcd(store, membership, member, state.nodeId, force, clock, logger, stopManager),
      abandonQuorum: () => member.stop(),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The other managers' cluster API addresses, reachable first. */
function otherManagers(store: Store, selfId: string): string[] {
  return managerAddrs(store.view((tx) => tx.list("nodes")).filter((n) => n.ID !== selfId));
}

/**
 * `swarm leave` on a manager. Without force: moby's refusal. With force and other managers that
 * keep a quorum without this one: step down (the election hands over at once), record the node as
 * a worker that is down, and remove this etcd member. A forced leave that would break the quorum
 * leaves the member in place, as Swarm's does (the others still count it).
 */
async function leaveEtcd(
  store: Store,
  membership: EtcdMembership,
  member: EtcdMember,
  nodeId: string,
  force: boolean,
  clock: Clock,
  logger: Logger,
  stopManager: () => Promise<void>,
): Promise<void> {
  const nodes = store.view((tx) => tx.list("nodes"));
  const { reachable, unreachable } = managerStats(nodes);
  if (!force) throw unavailable(leaveRefusal(reachable, unreachable));
  const managers = nodes
    .filter((n) => n.Spec?.Role === "manager")
    .map((n) => ({ id: n.ID, reachable: n.ManagerStatus?.Reachability !== "unreachable" }));
  if (managers.length <= 1) return;
  if (!canRemoveMember(managers, nodeId)) {
    logger.warn({}, "leaving without removing this etcd member: the others would lose their quorum");
    return;
  }
  await stopManager();
  await store.update((tx) => {
    const node = tx.get("nodes", nodeId);
    if (!node) return;
    tx.update("nodes", {
      ...node,
      Spec: { ...node.Spec, Role: "worker" },
      ManagerStatus: null,
      Status: { ...node.Status, State: "down", Message: "node left the swarm" },
      UpdatedAt: new Date(clock.now()).toISOString(),
    });
  });
  await membership.removeLocal(nodeId, member);
}
