/**
 * Issue 9 on a real cluster (a manager and two workers, each its own dockerd): a 5-service stack
 * with 2 overlay networks, a secret, a config, a published port and a healthcheck, deployed by the
 * real `docker stack deploy` and by `shoal stack deploy`. The mesh answers on every node; from a
 * task the other services resolve by short name and answer; a redeploy with one change replaces
 * only that service's tasks; `shoal stack rollback` brings the previous spec back; `docker stack
 * rm` leaves nothing on the managers' API nor on any node's dockerd.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { httpStatus } from "../../src/devcluster/index.ts";
import { SHOAL_BIN, waitFor } from "../helpers/shoal.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";
import { type CmdResult, run } from "./sys.ts";

const SERVICES = ["api", "cache", "db", "web", "worker"];
const SECRET = "s3cret-db-pass";
const CONFIG = "queue=jobs";

/** Every service serves a page naming itself on port 80 (busybox httpd); `$$` is compose's `$`. */
const page = (body: string) => [
  "sh",
  "-c",
  `mkdir -p /www && echo "${body}" > /www/index.html && exec httpd -f -p 80 -h /www`,
];

interface Variant {
  image: string;
  port: number;
  webReplicas: number;
  workerLevel: string;
}

function composeFile(v: Variant): string {
  const svc = (name: string, body: string, extra: string) =>
    `  ${name}:\n    image: ${v.image}\n    command: ${JSON.stringify(page(body))}\n${extra}`;
  return `version: "3.8"
services:
${svc(
  "web",
  "web",
  `    ports:
      - "${v.port}:80"
    networks: [front]
    healthcheck:
      test: ["CMD-SHELL", "timeout 3 wget -qO- http://localhost/ >/dev/null"]
      interval: 2s
      timeout: 4s
      retries: 3
    deploy:
      replicas: ${v.webReplicas}
`,
)}${svc("api", "api", "    networks: [front, back]\n    deploy:\n      replicas: 2\n")}${svc(
  "db",
  "db $$(cat /run/secrets/db_pass)",
  "    networks: [back]\n    secrets: [db_pass]\n",
)}${svc(
  "worker",
  "worker $$(cat /etc/worker.conf) level=$$LEVEL",
  `    networks: [back]
    environment:
      LEVEL: "${v.workerLevel}"
    configs:
      - source: worker_conf
        target: /etc/worker.conf
`,
)}${svc("cache", "cache", "    networks: [back]\n")}networks:
  front:
    driver: overlay
  back:
    driver: overlay
secrets:
  db_pass:
    file: ./db_pass.txt
configs:
  worker_conf:
    file: ./worker.conf
`;
}

describe("a 5-service stack on 3 nodes: docker stack deploy, DNS, redeploy, shoal rollback, rm", () => {
  let cluster: ClusterHarness;
  const dir = mkdtempSync(join(tmpdir(), "shoal-cluster-stack-"));
  const file = join(dir, "f.yml");
  const file2 = join(dir, "f2.yml");
  let v1: Variant;
  /** Swarm network IDs of the stacks' overlays, to find their local networks on the nodes' dockerds. */
  const networkIds: string[] = [];

  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 3, name: "stk", shoal: true });
    await cluster.formSwarm({ managers: 1 });
    writeFileSync(join(dir, "db_pass.txt"), `${SECRET}\n`);
    writeFileSync(join(dir, "worker.conf"), `${CONFIG}\n`);
    v1 = { image: cluster.registry.image, port: 8080, webReplicas: 3, workerLevel: "1" };
    writeFileSync(file, composeFile(v1));
  });
  disposeAfterTests(() => cluster);
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  const ok = async (args: string[], timeoutMs = 180_000) => {
    const r = await cluster.node(1).docker(args, { timeoutMs });
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const lines = (s: string) => s.split("\n").filter(Boolean);
  const shoal = (args: string[]): Promise<CmdResult> =>
    run([SHOAL_BIN, ...args, "-H", `unix://${cluster.node(1).shoalSocket}`], {
      timeoutMs: 180_000,
      env: { NODE_OPTIONS: "" },
    });
  const shoalOk = async (args: string[]) => {
    const r = await shoal(args);
    assert.equal(r.code, 0, `shoal ${args.join(" ")}: ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const replicas = async (stack: string) =>
    lines(await ok(["stack", "services", stack, "--format", "{{.Name}} {{.Replicas}}"])).sort();
  const converged = (stack: string, want: string[]) =>
    waitFor(
      `stack ${stack} at ${want.join(", ")}`,
      async () => {
        const got = await replicas(stack);
        if (got.join(",") === want.join(",")) return got;
        throw new Error(got.join(", "));
      },
      150_000,
    );
  /** Running task IDs of one service. */
  const taskIds = async (service: string) =>
    lines(await ok(["service", "ps", "-q", "--no-trunc", "-f", "desired-state=running", service])).sort();
  /** The node (1-based) and container of a running task of the service, found on the nodes' dockerds. */
  const containerOf = (service: string) =>
    waitFor(`a running ${service} container on some node`, async () => {
      for (const n of cluster.nodes) {
        const r = await n.dockerdCli([
          "ps",
          "-q",
          "--filter",
          `label=com.docker.swarm.service.name=${service}`,
        ]);
        const id = lines(r.stdout)[0];
        if (id) return { node: n, id };
      }
      return undefined;
    });

  /** `node N: <network>` for every local network on a node's dockerd standing for one of the swarm networks. */
  const localNetworks = async (ids: readonly string[]) => {
    const found: string[] = [];
    for (const n of cluster.nodes) {
      const r = await n.dockerdCli([
        "network",
        "ls",
        "--format",
        '{{.Name}} {{.Label "io.shoal.network.id"}}',
      ]);
      for (const l of lines(r.stdout)) {
        const [name, id] = l.split(" ");
        if (id && ids.includes(id)) found.push(`node ${n.index}: ${name}`);
      }
    }
    return found;
  };
  const recordNetworks = async (stack: string) => {
    const ids = lines(
      await ok([
        "network",
        "ls",
        "-q",
        "--no-trunc",
        "--filter",
        `label=com.docker.stack.namespace=${stack}`,
      ]),
    );
    assert.equal(ids.length, 2, `${stack}'s two overlays`);
    networkIds.push(...ids);
    return ids;
  };

  test("docker stack deploy: 5 services converge across the nodes, the published port answers on every node", async () => {
    const out = await ok(["stack", "deploy", "-c", file, "app"]);
    for (const what of [
      "network app_front",
      "network app_back",
      "secret app_db_pass",
      "config app_worker_conf",
      ...SERVICES.map((s) => `service app_${s}`),
    ])
      assert.match(out, new RegExp(`Creating ${what}\\b`), out);
    await converged("app", ["app_api 2/2", "app_cache 1/1", "app_db 1/1", "app_web 3/3", "app_worker 1/1"]);
    const nodes = lines(
      await ok(["stack", "ps", "app", "-f", "desired-state=running", "--format", "{{.Name}} {{.Node}}"]),
    );
    assert.equal(nodes.length, 8, nodes.join("\n"));
    assert.equal(
      new Set(nodes.map((l) => l.split(" ")[1])).size,
      3,
      `tasks on every node:\n${nodes.join("\n")}`,
    );
    const web = nodes.filter((l) => l.startsWith("app_web."));
    assert.equal(
      new Set(web.map((l) => l.split(" ")[1])).size,
      3,
      `one web task per node:\n${web.join("\n")}`,
    );
    // the registry image by tag, pinned to its digest by the CLI through shoal's distribution API
    const image = (
      await ok(["service", "inspect", "app_web", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"])
    ).trim();
    assert.equal(image, `${cluster.registry.image}@${cluster.registry.digest}`);
    const health = (
      await ok([
        "service",
        "inspect",
        "app_web",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}",
      ])
    ).trim();
    assert.match(health, /timeout 3 wget/);
    // the healthcheck runs in the web tasks' containers, on whichever node they are
    const { node, id } = await containerOf("app_web");
    await waitFor("a web container healthy", async () => {
      const r = await node.dockerdCli(["inspect", "-f", "{{.State.Health.Status}}", id]);
      return r.stdout.trim() === "healthy" ? true : undefined;
    });
    // each overlay is a local network on the nodes running its tasks (all three here: web is on every node)
    const ids = await recordNetworks("app");
    const local = await localNetworks(ids);
    assert.ok(local.length >= 4, `app's overlays on the nodes: ${local.join(", ")}`);
    for (const n of cluster.nodes) {
      const url = `http://${n.addr}:8080/`;
      await waitFor(`${url} answering through the mesh`, async () => (await httpStatus(url)) === 200, 60_000);
    }
  });

  test("from an api task, web, db, cache and worker resolve by short name and answer on TCP", async () => {
    const { node, id } = await containerOf("app_api");
    const sh = (script: string) => node.dockerdCli(["exec", id, "sh", "-c", script]);
    for (const name of ["web", "db", "cache", "worker"]) {
      const lookup = await waitFor(`${name} resolving from app_api`, async () => {
        const r = await sh(`nslookup ${name}`);
        return /Address:?\s+10\.\d+\.\d+\.\d+/.test(r.stdout.split(/Name:/)[1] ?? "") ? r.stdout : undefined;
      });
      assert.match(lookup, new RegExp(`Name:\\s+${name}\\b`));
      const body = await waitFor(`${name}:80 answering from app_api`, async () => {
        const r = await sh(`timeout 3 wget -qO- http://${name}/`);
        return r.code === 0 ? r.stdout.trim() : undefined;
      });
      assert.ok(body.startsWith(name), `${name} served ${body}`);
    }
    // the secret and the config reached their tasks
    assert.equal((await sh("timeout 3 wget -qO- http://db/")).stdout.trim(), `db ${SECRET}`);
    assert.equal((await sh("timeout 3 wget -qO- http://worker/")).stdout.trim(), `worker ${CONFIG} level=1`);
  });

  test("redeploy with an env change on worker replaces only worker's task", async () => {
    const before = new Map<string, string[]>();
    for (const s of SERVICES) before.set(s, await taskIds(`app_${s}`));
    writeFileSync(file, composeFile({ ...v1, workerLevel: "2" }));
    await ok(["stack", "deploy", "-c", file, "app"]);
    const old = before.get("worker") ?? [];
    await waitFor(
      "a new running worker task",
      async () => {
        const now = await taskIds("app_worker");
        if (now.length === 1 && !old.includes(now[0] ?? "")) return now;
        throw new Error(`worker tasks ${now.join(", ")}`);
      },
      90_000,
    );
    await converged("app", ["app_api 2/2", "app_cache 1/1", "app_db 1/1", "app_web 3/3", "app_worker 1/1"]);
    // a few seconds for a wrongly updated service to show its replacement
    await new Promise((r) => setTimeout(r, 4000));
    for (const s of SERVICES.filter((x) => x !== "worker"))
      assert.deepEqual(await taskIds(`app_${s}`), before.get(s), `${s}'s tasks unchanged`);
    const env = (
      await ok([
        "service",
        "inspect",
        "app_worker",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
      ])
    ).trim();
    assert.deepEqual(JSON.parse(env), ["LEVEL=2"]);
  });

  test("shoal stack deploy, history, a change, rollback: the previous revision's spec is back", async () => {
    const v2: Variant = { ...v1, port: 8081, webReplicas: 1 };
    writeFileSync(file2, composeFile(v2));
    const first = await shoalOk(["stack", "deploy", "-c", file2, "app2"]);
    assert.match(first, /Recorded revision 1 of stack app2/);
    await converged("app2", [
      "app2_api 2/2",
      "app2_cache 1/1",
      "app2_db 1/1",
      "app2_web 1/1",
      "app2_worker 1/1",
    ]);
    const specOf = async () =>
      JSON.parse(
        (
          await ok([
            "service",
            "inspect",
            "app2_worker",
            "--format",
            "{{json .Spec.TaskTemplate.ContainerSpec}}",
          ])
        ).trim(),
      ) as { Env?: string[]; Image: string };
    await recordNetworks("app2");
    const rev1 = await specOf();
    assert.deepEqual(rev1.Env, ["LEVEL=1"]);
    const history1 = await shoalOk(["stack", "history", "app2"]);
    assert.match(history1, /^1 \*\s+\S+\s+deploy\s+\S+f2\.yml\s+api,cache,db,web,worker$/m);

    writeFileSync(file2, composeFile({ ...v2, workerLevel: "3" }));
    assert.match(
      await shoalOk(["stack", "deploy", "-c", file2, "app2"]),
      /Recorded revision 2 of stack app2/,
    );
    assert.deepEqual((await specOf()).Env, ["LEVEL=3"]);
    assert.match(await shoalOk(["stack", "history", "app2"]), /^2 \*\s+/m);

    const rollback = await shoalOk(["stack", "rollback", "app2"]);
    assert.match(rollback, /Rolling back stack app2 to revision 1/);
    assert.match(rollback, /Recorded revision 3 of stack app2 \(rollback to 1\)/);
    assert.deepEqual(await specOf(), rev1, "worker's container spec is revision 1's again");
    assert.match(await shoalOk(["stack", "history", "app2"]), /^3 \*\s+\S+\s+rollback to 1/m);
    const { node, id } = await waitFor(
      "worker's task of the rolled-back spec",
      async () => {
        const c = await containerOf("app2_worker");
        const r = await c.node.dockerdCli(["exec", c.id, "sh", "-c", 'echo "$LEVEL"']);
        return r.stdout.trim() === "1" ? c : undefined;
      },
      90_000,
    );
    assert.ok(node && id);
    await converged("app2", [
      "app2_api 2/2",
      "app2_cache 1/1",
      "app2_db 1/1",
      "app2_web 1/1",
      "app2_worker 1/1",
    ]);
  });

  test("docker stack rm app and app2: no services, networks, secrets, configs or task containers left", async () => {
    await ok(["stack", "rm", "app", "app2"]);
    const stackLabel = ["--filter", "label=com.docker.stack.namespace"];
    const left = async () => [
      ...lines(await ok(["service", "ls", "--format", "service {{.Name}}"])),
      ...lines(await ok(["network", "ls", ...stackLabel, "--format", "network {{.Name}}"])),
      ...lines(await ok(["secret", "ls", "--format", "secret {{.Name}}"])),
      ...lines(await ok(["config", "ls", "--format", "config {{.Name}}"])),
    ];
    await waitFor(
      "nothing of the stacks on the manager",
      async () => {
        const l = await left();
        if (l.length === 0) return true;
        throw new Error(l.join(", "));
      },
      60_000,
    );
    await waitFor(
      "no task containers nor stack networks on any node's dockerd",
      async () => {
        const l: string[] = [];
        for (const n of cluster.nodes) {
          const r = await n.dockerdCli([
            "ps",
            "-a",
            "--filter",
            "label=com.docker.swarm.task.id",
            "--format",
            "{{.Names}}",
          ]);
          l.push(...lines(r.stdout).map((c) => `node ${n.index}: ${c}`));
        }
        if (l.length === 0) return true;
        throw new Error(l.join(", "));
      },
      60_000,
    );
  });
});
