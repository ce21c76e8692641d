/**
 * A cluster API on 127.0.0.1 for tests: a fresh root CA and cluster ID, the server's own manager
 * credentials, and a helper that mints credentials for any node, role or cluster (including a
 * foreign one). The registry and dispatcher come from the test.
 */
import type { AddressInfo } from "node:net";
import type { DispatcherConnector } from "../api/index.ts";
import type { Clock, Ids, Logger } from "../base/index.ts";
import { alreadyExists, RandomIds, SystemClock, silentLogger } from "../base/index.ts";
import type { NodeCredentials, NodeRole, RootCA } from "../ca/index.ts";
import {
  createNodeKeyAndCSR,
  createRootCA,
  crossSignRootCA,
  generateJoinToken,
  NodeCertSigner,
  rotationSigningMaterial,
} from "../ca/index.ts";
import { localAuthority } from "./authority.ts";
import type { ClusterSecurity, ManagerMembership, NewNode, NodeRegistry } from "./deps.ts";
import { LogHub } from "./log-hub.ts";
import { ClusterApiServer } from "./server.ts";

/** Node objects in a map: enough for the CA endpoints. */
export class MemoryRegistry implements NodeRegistry {
  readonly nodes = new Map<string, NewNode>();
  readonly issued: string[] = [];

  async createNode(node: NewNode): Promise<void> {
    if (this.nodes.has(node.nodeId)) throw alreadyExists(`node ${node.nodeId} already exists`);
    this.nodes.set(node.nodeId, node);
  }
  async roleOf(nodeId: string): Promise<NodeRole | undefined> {
    return this.nodes.get(nodeId)?.role;
  }
  async certificateIssued(nodeId: string): Promise<void> {
    this.issued.push(nodeId);
  }
}

export interface TestCluster {
  addr: string;
  clusterId: string;
  root: RootCA;
  tokens: { worker: string; manager: string };
  removed: Set<string>;
  server: ClusterApiServer;
  logs: LogHub;
  clock: Clock;
  /** Credentials signed by this cluster's root (or another root, for a foreign cluster). */
  mint(
    nodeId: string,
    role: NodeRole,
    opts?: { clusterId?: string; root?: RootCA },
  ): Promise<NodeCredentials>;
  stop(): Promise<void>;
}

export async function startTestCluster(deps: {
  registry: NodeRegistry;
  dispatcher: DispatcherConnector;
  ids?: Ids;
  logger?: Logger;
  /** Sign with this new root's key plus a cross-signed certificate, as during a root rotation. */
  rotatingTo?: RootCA;
  membership?: ManagerMembership;
}): Promise<TestCluster> {
  const clock = new SystemClock();
  const ids = deps.ids ?? new RandomIds();
  const logger = deps.logger ?? silentLogger();
  const root = await createRootCA(clock, ids);
  const clusterId = ids.newId();
  const tokens = {
    worker: generateJoinToken(root.certPem, ids),
    manager: generateJoinToken(root.certPem, ids),
  };
  const removed = new Set<string>();
  const signerFor = (r: RootCA) =>
    NodeCertSigner.create({ signingCertPem: r.certPem, signingKeyPem: r.keyPem }, { clock, ids });
  const signer = await signerFor(root);
  const issuing = deps.rotatingTo
    ? await NodeCertSigner.create(
        rotationSigningMaterial(deps.rotatingTo, await crossSignRootCA(root, deps.rotatingTo.certPem, ids)),
        { clock, ids },
      )
    : signer;
  const mint: TestCluster["mint"] = async (nodeId, role, opts = {}) => {
    const r = opts.root ?? root;
    const { keyPem, csrPem } = await createNodeKeyAndCSR();
    const s = r === root ? signer : await signerFor(r);
    const certPem = await s.sign(csrPem, { nodeId, role, clusterId: opts.clusterId ?? clusterId });
    return { certPem, keyPem, rootCAPem: r.certPem };
  };
  const security: ClusterSecurity = {
    clusterId: () => clusterId,
    joinTokens: () => tokens,
    isRemoved: (id) => removed.has(id),
  };
  const logs = new LogHub({ ids, logger });
  const server = new ClusterApiServer({
    credentials: await mint(ids.newId(), "manager"),
    security,
    authority: localAuthority(
      () => root.certPem,
      () => issuing,
    ),
    registry: deps.registry,
    dispatcher: deps.dispatcher,
    logs,
    ...(deps.membership ? { membership: deps.membership } : {}),
    ids,
    logger,
  });
  const address: AddressInfo = await server.listen(0, "127.0.0.1");
  return {
    addr: `127.0.0.1:${address.port}`,
    clusterId,
    root,
    tokens,
    removed,
    server,
    logs,
    clock,
    mint,
    stop: () => server.stop(),
  };
}
