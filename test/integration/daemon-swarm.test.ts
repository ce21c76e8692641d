/**
 * Issue: foundation. A real shoal daemon (child process) in front of the real dockerd, driven by the
 * real docker CLIs: version negotiation, proxying, swarm init/inspect/update/leave, restart after
 * kill -9, and the data-dir lock.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER_20, DOCKER_28, ShoalDaemon } from "../helpers/shoal.ts";

before(() => {
  // Fails loudly when dockerd cannot be started: these tests need it.
  execFileSync("bash", ["scripts/start-dockerd.sh"], {
    cwd: new URL("../..", import.meta.url).pathname,
    stdio: "inherit",
  });
});

describe("shoal daemon with the docker CLI", () => {
  const daemon = new ShoalDaemon();
  before(() => daemon.start());
  after(async () => {
    await daemon.dispose();
  });

  test("docker version shows shoal and API 1.41 for both CLIs", async () => {
    for (const bin of [DOCKER_20, DOCKER_28]) {
      const res = await daemon.docker(
        ["version", "--format", "{{.Server.APIVersion}} {{json .Server.Components}}"],
        { bin },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^1\.41 /);
      assert.match(res.stdout, /shoal/i);
    }
  });

  test("containers are proxied to the local dockerd with output and exit code intact", async () => {
    const hi = await daemon.docker(["run", "--rm", "busybox:local", "echo", "hi"]);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, "hi\n");
    const three = await daemon.docker(["run", "--rm", "busybox:local", "sh", "-c", "exit 3"]);
    assert.equal(three.code, 3);
  });

  test("before init: Swarm inactive, manager routes answer Swarm's 503", async () => {
    const info = await daemon.docker(["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    assert.equal(info.stdout.trim(), "inactive");
    const upd = await daemon.docker(["swarm", "update", "--task-history-limit", "3"]);
    assert.notEqual(upd.code, 0);
    assert.match(
      upd.stderr,
      /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join"/,
    );
    const leave = await daemon.docker(["swarm", "leave"]);
    assert.match(leave.stderr, /This node is not part of a swarm/);
  });

  let nodeId = "";
  let clusterId = "";

  test("swarm init makes this node the manager of a new swarm", async () => {
    const init = await daemon.init();
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager/);
    assert.match(
      init.stdout,
      new RegExp(
        `docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\\.0\\.0\\.1:${daemon.clusterPort}`,
      ),
    );
    const info = await daemon.docker([
      "info",
      "--format",
      "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Managers}} {{.Swarm.Nodes}} {{.Swarm.NodeID}} {{.Swarm.Cluster.ID}}",
    ]);
    const [state, control, managers, nodes, nid, cid] = info.stdout.trim().split(" ");
    assert.deepEqual([state, control, managers, nodes], ["active", "true", "1", "1"]);
    nodeId = nid ?? "";
    clusterId = cid ?? "";
    assert.match(nodeId, /^[0-9a-z]{25}$/);
    assert.match(clusterId, /^[0-9a-z]{25}$/);
    const again = await daemon.init();
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /This node is already part of a swarm/);
  });

  // The docker CLI has no `swarm inspect` (removed in 1.13): GET /swarm is what `swarm join-token`,
  // `swarm update` and `swarm ca` read.
  test("GET /swarm shows Swarm's default spec, never the CA key", async () => {
    const res = await fetchJson(daemon.socket, "GET", "/v1.41/swarm");
    assert.equal(res.status, 200);
    // biome-ignore lint/suspicious/noExplicitAny: free-form JSON read by a test
    const swarm = res.body as Record<string, any>;
    assert.equal(swarm?.ID, clusterId);
    assert.deepEqual(swarm?.Spec.Orchestration, { TaskHistoryRetentionLimit: 5 });
    assert.equal(swarm?.Spec.Raft.SnapshotInterval, 10000);
    assert.equal(swarm?.Spec.Raft.ElectionTick, 10);
    assert.equal(swarm?.Spec.Dispatcher.HeartbeatPeriod, 5_000_000_000);
    assert.equal(swarm?.Spec.CAConfig.NodeCertExpiry, 7_776_000_000_000_000);
    assert.match(swarm?.TLSInfo.TrustRoot, /BEGIN CERTIFICATE/);
    assert.match(swarm?.JoinTokens.Worker, /^SWMTKN-1-/);
    assert.equal(JSON.stringify(swarm).includes("PRIVATE KEY"), false);
  });

  test("swarm update is versioned; bad values get Swarm's errors and change nothing", async () => {
    const upd = await daemon.docker(["swarm", "update", "--task-history-limit", "10"]);
    assert.equal(upd.code, 0, upd.stderr);
    const limit = await daemon.docker([
      "info",
      "--format",
      "{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}",
    ]);
    assert.equal(limit.stdout.trim(), "10");
    const bad = await daemon.docker(["swarm", "update", "--cert-expiry", "15m"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /minimum certificate expiry time is: 1h0m0s/);
    const before = await daemon.docker(["swarm", "join-token", "-q", "worker"]);
    const rot = await daemon.docker(["swarm", "join-token", "--rotate", "-q", "worker"]);
    assert.equal(rot.code, 0, rot.stderr);
    const after = await daemon.docker(["swarm", "join-token", "-q", "worker"]);
    assert.match(after.stdout, /^SWMTKN-1-/);
    assert.notEqual(after.stdout, before.stdout);
    assert.equal(after.stdout, rot.stdout);
    const ca = await daemon.docker(["swarm", "ca"]);
    assert.match(ca.stdout, /BEGIN CERTIFICATE/);
    const expiry = await daemon.docker([
      "info",
      "--format",
      "{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}",
    ]);
    assert.equal(expiry.stdout.trim(), "2160h0m0s");
  });

  test("a stale version gets 'update out of sequence'", async () => {
    const res = await fetchJson(
      daemon.socket,
      "POST",
      "/v1.41/swarm/update?version=1&rotateWorkerToken=false&rotateManagerToken=false&rotateManagerUnlockKey=false",
      {
        Name: "default",
      },
    );
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { message: "rpc error: code = Unknown desc = update out of sequence" });
    const missing = await fetchJson(daemon.socket, "POST", "/v1.41/swarm/update", { Name: "default" });
    assert.equal(missing.status, 400);
    assert.match(String((missing.body as { message: string }).message), /invalid swarm version ''/);
    const malformed = await fetchRaw(daemon.socket, "POST", "/v1.41/swarm/update?version=5", "{not json");
    assert.equal(malformed.status, 400);
  });

  test("kill -9 and restart: same cluster, same IDs", async () => {
    const before = await fetchJson(daemon.socket, "GET", "/v1.41/swarm");
    await daemon.kill("SIGKILL");
    await daemon.start();
    const info = await daemon.docker([
      "info",
      "--format",
      "{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.Cluster.ID}}",
    ]);
    assert.equal(info.stdout.trim(), `active ${nodeId} ${clusterId}`);
    const after = await fetchJson(daemon.socket, "GET", "/v1.41/swarm");
    assert.deepEqual(after.body, before.body);
  });

  test("a second daemon on the same data dir refuses to start", async () => {
    const second = new ShoalDaemon();
    try {
      await assert.rejects(
        (async () => {
          const res = await import("node:child_process");
          const out = res.spawnSync(
            "bin/shoal",
            ["daemon", "--data-dir", daemon.dataDir, "--engine-socket", second.socket],
            {
              cwd: new URL("../..", import.meta.url).pathname,
              encoding: "utf8",
              timeout: 60_000,
            },
          );
          throw new Error(`exit ${out.status}: ${out.stderr}`);
        })(),
        /exit 1: .*another shoal daemon \(pid \d+\) is already running/s,
      );
    } finally {
      await second.dispose();
    }
  });

  test("swarm leave: refused without --force, then removes all state", async () => {
    const leave = await daemon.docker(["swarm", "leave"]);
    assert.notEqual(leave.code, 0);
    assert.match(leave.stderr, /Removing the last manager erases all current state of the swarm/);
    const forced = await daemon.docker(["swarm", "leave", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Node left the swarm/);
    const info = await daemon.docker(["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    assert.equal(info.stdout.trim(), "inactive");
    const etcds = execFileSync("sh", ["-c", "pgrep -a -x etcd || true"], { encoding: "utf8" }).split("\n");
    assert.deepEqual(
      etcds.filter((l) => l.includes(daemon.dataDir)),
      [],
      "no etcd left running for this data dir",
    );
    assert.equal(existsSync(join(daemon.dataDir, "swarm")), false, "swarm state removed");
  });
});

function fetchRaw(
  socket: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string; type: string }> {
  return new Promise((done, fail) => {
    const req = request(
      { socketPath: socket, method, path, headers: { "Content-Type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString(),
            type: String(res.headers["content-type"]),
          }),
        );
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

async function fetchJson(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetchRaw(socket, method, path, body === undefined ? undefined : JSON.stringify(body));
  assert.equal(res.type, "application/json");
  return { status: res.status, body: JSON.parse(res.text) };
}
