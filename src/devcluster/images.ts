/**
 * Images of a dev cluster: taken from the machine's own dockerd (like `kind load docker-image`),
 * loaded into every node's dockerd, and the first one pushed to the cluster's registry so that
 * services can name it by digest and every node really pulls it.
 */
import { join } from "node:path";
import { BINARIES, pingSocket, REPO } from "./daemon.ts";
import type { ClusterNode } from "./node.ts";
import type { Registry } from "./registry.ts";
import { must, run } from "./sys.ts";

/** The test image: busybox-static imported as an image (scripts/make-test-image.sh). */
export const TEST_IMAGE = "busybox:local";
export const HOST_DOCKERD_SOCKET = "/var/run/docker.sock";

const hostDocker = (args: readonly string[]) =>
  run([BINARIES.docker, "-H", `unix://${HOST_DOCKERD_SOCKET}`, ...args], { timeoutMs: 120_000 });

/** Starts the machine's dockerd (scripts/start-dockerd.sh) unless it answers. */
export async function ensureHostDockerd(): Promise<void> {
  if (await pingSocket(HOST_DOCKERD_SOCKET)) return;
  const started = await run(["bash", join(REPO, "scripts/start-dockerd.sh")], { timeoutMs: 60_000 });
  if (started.code !== 0 || !(await pingSocket(HOST_DOCKERD_SOCKET)))
    throw new Error(
      `the machine's dockerd does not answer on ${HOST_DOCKERD_SOCKET} (scripts/start-dockerd.sh exited ${started.code}): ${started.stderr.trim()}`,
    );
}

/**
 * Makes sure the machine's dockerd runs and holds every image of `images`; the test image is built
 * when it is missing, any other missing image is an error naming it.
 */
export async function ensureHostImages(images: readonly string[]): Promise<void> {
  await ensureHostDockerd();
  for (const image of images) {
    if ((await hostDocker(["image", "inspect", image])).code === 0) continue;
    if (image !== TEST_IMAGE)
      throw new Error(`image ${image} is not in the machine's dockerd: docker pull or docker build it first`);
    const made = await run(["bash", join(REPO, "scripts/make-test-image.sh"), TEST_IMAGE], {
      env: { DOCKER_HOST: `unix://${HOST_DOCKERD_SOCKET}` },
    });
    if (made.code !== 0) throw new Error(`cannot build ${TEST_IMAGE}: ${made.stderr.trim()}`);
  }
}

/** `docker save` of `images` from the machine's dockerd into one tar. */
export async function saveHostImages(images: readonly string[], tar: string): Promise<void> {
  await ensureHostImages(images);
  await must([BINARIES.docker, "-H", `unix://${HOST_DOCKERD_SOCKET}`, "save", "-o", tar, ...images], {
    timeoutMs: 300_000,
  });
}

export async function loadImageTar(n: ClusterNode, tar: string): Promise<void> {
  const r = await n.dockerdCli(["load", "-q", "-i", tar], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`docker load on node ${n.index}: ${r.stderr.trim()}`);
}

/** Pushes `target` from node `n`'s dockerd; returns the manifest digest the registry gave it. */
async function push(n: ClusterNode, target: string): Promise<string> {
  const pushed = await n.dockerdCli(["push", target]);
  const m = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout);
  if (pushed.code !== 0 || !m?.[1])
    throw new Error(`docker push ${target}: ${pushed.stderr}${pushed.stdout}`);
  return m[1];
}

/** Tags `image` (already in node `n`) as `<registry>/<repo>:<tag>` and pushes it. */
export async function pushImage(
  n: ClusterNode,
  registryAddr: string,
  image: string,
): Promise<Omit<Registry, "pid">> {
  const last = image.slice(image.lastIndexOf("/") + 1);
  const repo = last.includes(":") ? last.slice(0, last.indexOf(":")) : last;
  const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : "latest";
  const target = `${registryAddr}/${repo}:${tag}`;
  const tagged = await n.dockerdCli(["tag", image, target]);
  if (tagged.code !== 0) throw new Error(`docker tag ${image} ${target}: ${tagged.stderr}`);
  const digest = await push(n, target);
  return { addr: registryAddr, image: target, digest, ref: `${registryAddr}/${repo}@${digest}` };
}

/**
 * Builds `FROM <base>` + `lines` on node `n` and pushes it as `<registry>/<name>`: distinct images
 * (and digests) for update and rollback tests, pullable by every node.
 */
export async function buildAndPush(
  n: ClusterNode,
  reg: Registry,
  name: string,
  lines: readonly string[],
): Promise<Omit<Registry, "addr" | "pid">> {
  if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_.-]+)?$/.test(name)) throw new Error(`bad image name ${name}`);
  const target = `${reg.addr}/${name.includes(":") ? name : `${name}:latest`}`;
  const dockerfile = [`FROM ${reg.image}`, ...lines, ""].join("\n");
  const built = await n.dockerdCli(["build", "-q", "-t", target, "-"], { input: dockerfile });
  if (built.code !== 0) throw new Error(`docker build ${target}: ${built.stderr}${built.stdout}`);
  const digest = await push(n, target);
  return { image: target, digest, ref: `${target.slice(0, target.lastIndexOf(":"))}@${digest}` };
}
