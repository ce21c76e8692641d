/**
 * The user's first command, for real: `./bin/shoal up --nodes 3 --managers 1` brings up a local
 * cluster in network namespaces with the demo stack converged and its published port answering on
 * every node, prints DOCKER_HOST, reuses it when run again, replaces it when broken, and `shoal
 * down` leaves nothing (processes, netns, links, mounts, cgroups, rules, files); `shoal up` works
 * again after it.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  httpStatus,
  leftovers,
  readRecord,
  recordDir,
  removeCluster,
  waitFor,
} from "../../src/devcluster/index.ts";
import { REPO } from "./node.ts";
import { type CmdResult, cgroupPids, run } from "./sys.ts";

const NAME = `uptest-${process.pid}`;
const SHOAL = join(REPO, "bin/shoal");

const shoal = (args: string[], timeoutMs = 300_000): Promise<CmdResult> =>
  run([SHOAL, ...args, "--name", NAME], { timeoutMs, env: { NODE_OPTIONS: "" } });

function ok(r: CmdResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const dockerHostLine = (out: string): string => {
  const lines = out.split("\n").filter((l) => l.startsWith("DOCKER_HOST="));
  assert.equal(lines.length, 1, `one DOCKER_HOST= line in:\n${out}`);
  return (lines[0] as string).slice("DOCKER_HOST=".length);
};

const docker = (host: string, args: string[]): Promise<CmdResult> =>
  run(["/usr/bin/docker", ...args], { env: { DOCKER_HOST: host, DOCKER_CLI_HINTS: "false" } });

/** Everything of the cluster still on the machine: its instance's leftovers and its record. */
function remains(idx: number): string[] {
  return [...leftovers(idx), ...(existsSync(recordDir(NAME)) ? [`record ${recordDir(NAME)}`] : [])];
}

describe("shoal up / shoal down", { timeout: 600_000 }, () => {
  let host = "";
  let idx = -1;
  let firstOut = "";

  after(() => {
    // whatever a failed test left: the same removal shoal down does
    removeCluster(NAME);
  });

  test("shoal up --nodes 3 --managers 1: nodes, DOCKER_HOST, the demo stack converged", async () => {
    const t0 = performance.now();
    firstOut = ok(await shoal(["up", "--nodes", "3", "--managers", "1"]), "shoal up");
    const seconds = (performance.now() - t0) / 1000;
    host = dockerHostLine(firstOut);
    idx = readRecord(NAME)?.idx ?? -1;
    assert.ok(idx >= 0, "the cluster is recorded");
    for (let i = 1; i <= 3; i++)
      assert.match(firstOut, new RegExp(`^ +${NAME}-node${i} +172\\.16\\.${idx}\\.${i} `, "m"));
    assert.ok(seconds < 120, `shoal up took ${seconds.toFixed(1)} s`);

    const nodes = await docker(host, [
      "node",
      "ls",
      "--format",
      "{{.Hostname}} {{.Status}} {{.ManagerStatus}}",
    ]);
    const lines = ok(nodes, "docker node ls")
      .trim()
      .split("\n")
      .map((l) => l.trim())
      .sort();
    assert.deepEqual(lines, [`${NAME}-node1 Ready Leader`, `${NAME}-node2 Ready`, `${NAME}-node3 Ready`]);

    const services = await docker(host, ["stack", "services", "demo", "--format", "{{.Name}} {{.Replicas}}"]);
    assert.deepEqual(ok(services, "docker stack services").trim().split("\n").sort(), [
      "demo_client 1/1",
      "demo_web 3/3",
    ]);
    const image = ok(
      await docker(host, [
        "service",
        "inspect",
        "demo_web",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
      ]),
      "service inspect",
    ).trim();
    // the compose file names the image by tag; shoal stack deploy pinned it to the registry's digest
    assert.match(image, new RegExp(`^172\\.16\\.${idx}\\.254:5000/busybox:local@sha256:[0-9a-f]{64}$`));
    const ps = ok(
      await docker(host, [
        "service",
        "ps",
        "demo_web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}}",
      ]),
      "service ps",
    );
    assert.equal(new Set(ps.trim().split("\n")).size, 3, `one web replica per node: ${ps}`);
    // the client is healthy only once it reached web by name; its log says what it got
    const logs = await docker(host, ["service", "logs", "--tail", "5", "demo_client"]);
    assert.match(logs.stdout + logs.stderr, /web answered: Hello from the shoal demo stack/);
    assert.match(firstOut, new RegExp(`curl http://172\\.16\\.${idx}\\.1:8080/`));
    assert.doesNotMatch(firstOut, /did not answer/);
    // the routing mesh: the published port answers on every node's address, from this machine
    for (let i = 1; i <= 3; i++) {
      const url = `http://172.16.${idx}.${i}:8080/`;
      await waitFor(`${url} answering`, async () => (await httpStatus(url)) === 200, 20_000);
    }
  });

  test("shoal up again reuses the cluster and redeploys the stack without restarting its tasks", async () => {
    assert.ok(host, "the first test brought the cluster up");
    const before = ok(await docker(host, ["service", "ps", "-q", "demo_web"]), "service ps").trim();
    const out = ok(await shoal(["up"]), "second shoal up");
    assert.match(out, /is already up \(instance \d+\): reusing it/);
    assert.equal(dockerHostLine(out), host);
    assert.match(out, /Stack demo: every service converged/);
    assert.equal(ok(await docker(host, ["service", "ps", "-q", "demo_web"]), "service ps").trim(), before);
    const refused = await shoal(["up", "--nodes", "4"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already up with 3 nodes and 1 manager, not --nodes 4/);
  });

  test("shoal down leaves nothing behind; twice is fine", async () => {
    assert.ok(idx >= 0, "the first test brought the cluster up");
    const out = ok(await shoal(["down"]), "shoal down");
    assert.match(out, new RegExp(`Removed cluster "${NAME}" \\(instance ${idx}\\)`));
    assert.deepEqual(remains(idx), []);
    assert.equal((await docker(host, ["node", "ls"])).code === 0, false, "DOCKER_HOST no longer answers");
    assert.match(ok(await shoal(["down"]), "second shoal down"), /nothing to remove/);
  });

  test("shoal up works again after shoal down; a broken cluster is replaced (one node, no demo)", async () => {
    const out = ok(await shoal(["up", "--nodes", "1", "--no-demo"]), "shoal up after down");
    assert.equal(dockerHostLine(out), host, "the same DOCKER_HOST as before");
    const again = readRecord(NAME)?.idx ?? -1;
    const info = await docker(host, ["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.Managers}}"]);
    assert.equal(ok(info, "docker info").trim(), "active 1");
    // kill -9 of the node's shoal (and its etcd): the next shoal up replaces the cluster
    for (const pid of cgroupPids(`shoalc${again}/n1/shoal`)) process.kill(pid, "SIGKILL");
    const replaced = ok(await shoal(["up", "--no-demo"]), "shoal up on a broken cluster");
    assert.match(replaced, /is not healthy \(shoal on .*-node1 does not answer\): replacing it/);
    assert.match(replaced, /Creating cluster ".*": 1 node, 1 manager/);
    const third = readRecord(NAME)?.idx ?? -1;
    assert.deepEqual(leftovers(again), [], "the broken instance is gone");
    assert.equal(
      ok(await docker(host, ["info", "--format", "{{.Swarm.LocalNodeState}}"]), "info").trim(),
      "active",
    );
    ok(await shoal(["down"]), "shoal down");
    assert.deepEqual(remains(third), []);
  });
});
