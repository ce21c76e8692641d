/**
 * Issue: secrets and configs across nodes. A manager and a worker, each with its own dockerd and
 * shoal daemon in its own namespaces: a secret used only by a task on the worker reaches the worker
 * over the cluster API and is mounted from a tmpfs in the worker's mount namespace; a secret used
 * only on the manager never gets a tmpfs (nor a log line) on the worker; both go away with their
 * services.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness } from "./harness.ts";
import type { ClusterNode } from "./node.ts";
import { disposeAfterTests } from "./per-file.ts";

const WORKER_VALUE = "for-the-worker-only";
const MANAGER_VALUE = "for-the-manager-only";

describe("secrets reach only the nodes that run tasks using them", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 2, name: "sec", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 1 });
  });
  disposeAfterTests(() => cluster, 40);

  const m = () => cluster.node(1);
  const w = () => cluster.node(2);
  const ok = async (args: string[], input?: string) => {
    const r = await m().docker(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const taskIds = async (service: string) =>
    (await ok(["service", "ps", service, "-q", "--no-trunc"])).split("\n").filter(Boolean);
  const secretMounts = async (node: ClusterNode) =>
    (await node.exec(["cat", "/proc/self/mountinfo"])).stdout
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((p) => p.startsWith("/run/shoal/secrets/"));
  const containerOn = (node: ClusterNode, service: string) =>
    waitFor(`a running ${service} container on ${node.hostname}`, async () => {
      const r = await node.dockerdCli([
        "ps",
        "-q",
        "--filter",
        `label=com.docker.swarm.service.name=${service}`,
      ]);
      const id = r.stdout.trim();
      return id && !id.includes("\n") ? id : undefined;
    });

  test("a worker's task reads its secret; the manager's secret never reaches the worker", async () => {
    await ok(["secret", "create", "w_secret", "-"], WORKER_VALUE);
    await ok(["secret", "create", "m_secret", "-"], MANAGER_VALUE);
    await ok(["config", "create", "w_conf", "-"], "worker=1\n");
    const create = (name: string, role: string, secret: string, extra: string[] = []) =>
      ok([
        "service",
        "create",
        "--name",
        name,
        "--constraint",
        `node.role==${role}`,
        "--secret",
        `source=${secret},target=value,mode=0400`,
        ...extra,
        "busybox:local",
        "sleep",
        "100000",
      ]);
    await create("on_worker", "worker", "w_secret", ["--config", "source=w_conf,target=/etc/w.conf"]);
    await create("on_manager", "manager", "m_secret");

    const wc = await containerOn(w(), "on_worker");
    const read = await w().dockerdCli(["exec", wc, "cat", "/run/secrets/value", "/etc/w.conf"]);
    assert.equal(read.stdout, `${WORKER_VALUE}worker=1\n`);
    const mc = await containerOn(m(), "on_manager");
    assert.equal((await m().dockerdCli(["exec", mc, "cat", "/run/secrets/value"])).stdout, MANAGER_VALUE);

    const [workerTask] = await taskIds("on_worker");
    const [managerTask] = await taskIds("on_manager");
    const onWorker = await secretMounts(w());
    assert.ok(onWorker.includes(`/run/shoal/secrets/${workerTask}`), onWorker.join(","));
    assert.equal(onWorker.includes(`/run/shoal/secrets/${managerTask}`), false);
    assert.equal((await secretMounts(m())).includes(`/run/shoal/secrets/${workerTask}`), false);
    const workerLog = (await w().exec(["cat", w().logs.shoal])).stdout;
    for (const v of [WORKER_VALUE, MANAGER_VALUE, Buffer.from(MANAGER_VALUE).toString("base64")]) {
      assert.equal(workerLog.includes(v), false, `${v} in the worker's log`);
    }
  });

  test("removing the services removes the tmpfs on each node", async () => {
    const tasks = [...(await taskIds("on_worker")), ...(await taskIds("on_manager"))];
    await ok(["service", "rm", "on_worker", "on_manager"]);
    for (const node of [m(), w()]) {
      await waitFor(
        `no secrets tmpfs left on ${node.hostname}`,
        async () =>
          (await secretMounts(node)).some((p) => tasks.some((t) => p.endsWith(t))) ? undefined : true,
        60_000,
      );
    }
    await ok(["secret", "rm", "w_secret", "m_secret"]);
    await ok(["config", "rm", "w_conf"]);
  });
});
