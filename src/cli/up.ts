/**
 * `shoal up`: a local multi-node cluster on this machine (like kind or `nomad agent -dev`): every
 * node a network namespace with its own containerd, dockerd and shoal daemon, a swarm formed over
 * them, a registry serving the test image by digest, and the demo stack (examples/demo-stack.yml)
 * deployed and converged. Idempotent: a healthy cluster of the same name is reused (and the stack
 * redeployed); a broken one is replaced. `shoal down` removes it.
 */
import { resolve } from "node:path";
import { failedPrecondition } from "../base/index.ts";
import {
  DevCluster,
  ensureHostImages,
  findRecorded,
  httpStatus,
  preflight,
  removeCluster,
  socketLink,
  TEST_IMAGE,
  type UpRecord,
  unhealthy,
  writeRecord,
} from "../devcluster/index.ts";
import { engineRequest } from "./engine-client.ts";
import { stackDeploy } from "./stack-deploy.ts";
import { type NodeLine, newShape, shapeMismatch, summaryLines, type UpRequest } from "./up-options.ts";

export interface UpIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const REPO = resolve(import.meta.dirname, "../..");
export const DEMO_STACK_FILE = resolve(REPO, "examples/demo-stack.yml");
export const DEMO_STACK = "demo";

const since = (t0: number) => (performance.now() - t0) / 1000;

type Shape = { nodes: number; managers: number };

/**
 * A healthy recorded cluster to reuse; otherwise, after removing whatever stands in the way, the
 * shape of the broken one (a replacement keeps it unless the flags say otherwise).
 */
async function reusable(
  req: UpRequest,
  io: UpIo,
): Promise<{ cluster: DevCluster; record: UpRecord } | { previous?: Shape }> {
  const found = findRecorded(req.name);
  if (found.state === "found") {
    const why = await unhealthy(found.cluster);
    if (why === undefined) {
      const mismatch = shapeMismatch(req, found.record);
      if (mismatch) throw failedPrecondition(mismatch);
      io.out(`Cluster "${req.name}" is already up (instance ${found.record.idx}): reusing it`);
      return { cluster: found.cluster, record: found.record };
    }
    io.out(`Cluster "${req.name}" (instance ${found.record.idx}) is not healthy (${why}): replacing it`);
  }
  const removed = removeCluster(req.name);
  if (removed.length > 0) io.out(`Removed what an earlier shoal up left (instance ${removed.join(", ")})`);
  return found.state === "none" ? {} : { previous: found.record };
}

async function create(
  req: UpRequest,
  shape: Shape,
  io: UpIo,
): Promise<{ cluster: DevCluster; record: UpRecord }> {
  const s = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  io.out(`Creating cluster "${req.name}": ${s(shape.nodes, "node")}, ${s(shape.managers, "manager")} ...`);
  const cluster = await DevCluster.create({
    nodes: shape.nodes,
    name: req.name,
    shoal: ["--log-level", "info"],
    images: req.loadImages,
    persistent: true,
  });
  io.out(
    `  instance ${cluster.idx}: network ${cluster.subnet}, state and logs in ${cluster.dir}; ` +
      `containerd, dockerd and shoal on every node in ${cluster.timings.total.toFixed(1)} s`,
  );
  const record: UpRecord = {
    name: req.name,
    idx: cluster.idx,
    ...shape,
    created: cluster.manifest()?.created ?? "",
    dockerHost: `unix://${socketLink(req.name)}`,
  };
  writeRecord(record, cluster.node(1).shoalSocket);
  const t0 = performance.now();
  try {
    await cluster.formSwarm({ managers: shape.managers });
  } catch (err) {
    const logs = cluster.logTails(15);
    removeCluster(req.name);
    throw new Error(`forming the swarm failed: ${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
  io.out(`  swarm formed in ${since(t0).toFixed(1)} s`);
  return { cluster, record };
}

/** Deploys the demo stack with --wait; returns its published URL on node 1. */
async function deployDemo(cluster: DevCluster, req: UpRequest, io: UpIo): Promise<string> {
  io.out(`Deploying the demo stack (examples/demo-stack.yml) as "${DEMO_STACK}" ...`);
  const indent = { out: (l: string) => io.out(`  ${l}`), err: (l: string) => io.err(`  ${l.trimEnd()}`) };
  await stackDeploy(cluster.node(1).shoalSocket, [DEMO_STACK_FILE], DEMO_STACK, {
    prune: true,
    wait: true,
    timeoutMs: req.timeoutMs,
    // by tag: the deploy pins it to the registry's digest (--resolve-image always)
    env: { ...process.env, DEMO_IMAGE: cluster.registry.image },
    io: indent,
  });
  const web = await engineRequest(cluster.node(1).shoalSocket, "GET", `/v1.41/services/${DEMO_STACK}_web`);
  const ports = (web.body as { Endpoint?: { Ports?: Array<{ PublishedPort?: number }> } }).Endpoint?.Ports;
  return `http://${cluster.node(1).addr}:${ports?.[0]?.PublishedPort ?? 8080}/`;
}

/** Whether `url` answers 200 from this machine within a few seconds. */
async function answers(url: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    if ((await httpStatus(url, 2000)) === 200) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

interface NodeView {
  Description?: { Hostname?: string };
  Spec?: { Role?: string };
  ManagerStatus?: { Leader?: boolean };
}

async function nodeLines(cluster: DevCluster): Promise<NodeLine[]> {
  const res = await engineRequest(cluster.node(1).shoalSocket, "GET", "/v1.41/nodes");
  const views = Array.isArray(res.body) ? (res.body as NodeView[]) : [];
  return cluster.nodes.map((n) => {
    const v = views.find((x) => x.Description?.Hostname === n.hostname);
    const role = !v
      ? "?"
      : v.Spec?.Role !== "manager"
        ? "worker"
        : v.ManagerStatus?.Leader
          ? "manager (leader)"
          : "manager";
    return { hostname: n.hostname, addr: n.addr, role, socket: n.shoalSocket };
  });
}

export async function up(req: UpRequest, io: UpIo): Promise<void> {
  const t0 = performance.now();
  preflight();
  // a missing image is the user's to fix: say so before anything is built
  await ensureHostImages([TEST_IMAGE, ...req.loadImages]);
  const found = await reusable(req, io);
  const existing = "cluster" in found ? found : undefined;
  const { cluster, record } =
    existing ?? (await create(req, newShape(req, "previous" in found ? found.previous : undefined), io));
  if (existing && req.loadImages.length > 0) {
    io.out(`Loading ${req.loadImages.join(", ")} into every node ...`);
    await cluster.loadImages(req.loadImages);
  }
  // a demo that does not converge still leaves a usable cluster: print how to reach it, then fail
  let demoFailure: string | undefined;
  const url = req.demo
    ? await deployDemo(cluster, req, io).catch((err: unknown) => {
        demoFailure = err instanceof Error ? err.message : String(err);
        return undefined;
      })
    : undefined;
  const lines = summaryLines({
    name: req.name,
    nodes: await nodeLines(cluster),
    registry: cluster.registry,
    dockerHost: record.dockerHost,
    ...(url ? { demo: { url, answers: await answers(url) } } : {}),
    logs: `${cluster.dir}/logs/n<i>/{shoal,dockerd,containerd}.log`,
    seconds: since(t0),
    reused: existing !== undefined,
  });
  io.out("");
  for (const l of lines) io.out(l);
  if (demoFailure !== undefined)
    throw failedPrecondition(
      `the demo stack did not converge (${demoFailure}); the cluster is up: ` +
        `docker stack ps ${DEMO_STACK} and docker service logs show why`,
    );
}
