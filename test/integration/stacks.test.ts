/**
 * Issue 9: stacks. The real `docker stack deploy/services/ps/rm` against a real shoal daemon, and
 * shoal's own `stack deploy --wait`, `history` and `rollback`.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CliResult, docker, SHOAL_BIN, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;

/** docker 20.10 knows only the short `depends_on`; shoal also reads the long one. */
function composeFile(webReplicas: number, longDependsOn = false): string {
  const dependsOn = longDependsOn ? "\n      web:\n        condition: service_healthy" : " [web]";
  return `version: "3.8"
x-common: &common
  image: busybox:local
services:
  web:
    <<: *common
    command: ["sh", "-c", "echo hi > /tmp/index.html && httpd -f -p 8080 -h /tmp"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/index.html"]
      interval: 1s
      timeout: 2s
      retries: 5
    networks: [front, back]
    secrets: [token]
    configs:
      - source: conf
        target: /etc/app.conf
    deploy:
      replicas: ${webReplicas}
      labels: { tier: front }
  worker:
    <<: *common
    command: ["sleep", "100000"]
    networks: [back]
    depends_on:${dependsOn}
    deploy:
      replicas: 1
networks:
  front:
    attachable: true
  back:
    driver: overlay
    labels: { purpose: test }
secrets:
  token:
    file: ./token.txt
configs:
  conf:
    file: ./app.conf
`;
}

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

function shoal(socket: string, args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      SHOAL_BIN,
      args,
      { env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

describe("stacks", () => {
  const daemon = new ShoalDaemon();
  const dir = mkdtempSync(join(tmpdir(), "shoal-stack-"));
  const file = join(dir, "docker-stack.yml");
  const ok = async (args: string[]) => {
    const res = await docker(daemon.socket, args, { timeoutMs: 240_000 });
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const replicas = async () =>
    (await ok(["stack", "services", "app", "--format", "{{.Name}} {{.Replicas}}"])).trim().split("\n").sort();
  const taskIds = async () =>
    (await ok(["stack", "ps", "app", "-q", "--no-trunc", "--filter", "desired-state=running"]))
      .trim()
      .split("\n")
      .sort();
  const stackLeftovers = async () => {
    const filter = ["--filter", "label=com.docker.stack.namespace=app", "-q"];
    return [
      ...(await ok(["service", "ls", ...filter])).split("\n"),
      ...(await ok(["network", "ls", ...filter])).split("\n"),
      ...(await ok(["secret", "ls", ...filter])).split("\n"),
      ...(await ok(["config", "ls", ...filter])).split("\n"),
    ].filter(Boolean);
  };

  before(async () => {
    writeFileSync(join(dir, "token.txt"), "t0ken\n");
    writeFileSync(join(dir, "app.conf"), "mode=test\n");
    writeFileSync(file, composeFile(2));
    await daemon.start();
    // Its own address pool: bridges other clusters left on this dockerd would overlap the default one.
    const pool = `10.${100 + Math.floor(Math.random() * 150)}.0.0/16`;
    assert.equal((await daemon.init(["--default-addr-pool", pool])).code, 0);
  });
  after(async () => {
    await daemon.docker(["stack", "rm", "app"]);
    await daemon.dispose();
  });

  test("docker stack deploy: services, 2 networks, secret, config; services/ps right", async () => {
    const out = await ok(["stack", "deploy", "--resolve-image", "never", "-c", file, "app"]);
    assert.match(out, /Creating network app_back/);
    assert.match(out, /Creating network app_front/);
    assert.match(out, /Creating secret app_token/);
    assert.match(out, /Creating config app_conf/);
    assert.match(out, /Creating service app_web/);
    assert.match(out, /Creating service app_worker/);
    await waitFor(
      "app_web 2/2 and app_worker 1/1",
      async () => {
        const r = await replicas();
        return r.join(",") === "app_web 2/2,app_worker 1/1" ? r : undefined;
      },
      120_000,
    );
    const ps = await ok(["stack", "ps", "app", "--format", "{{.Name}} {{.CurrentState}}"]);
    assert.equal(ps.split("\n").filter((l) => /^app_(web|worker)\.\d+ Running/.test(l)).length, 3, ps);
    const net = JSON.parse(await ok(["network", "inspect", "app_back"])) as Array<{
      Labels: Record<string, string>;
      Driver: string;
    }>;
    assert.equal(net[0]?.Driver, "overlay");
    assert.deepEqual(net[0]?.Labels, { purpose: "test", "com.docker.stack.namespace": "app" });
    const labels = (await ok(["service", "inspect", "app_web", "--format", "{{json .Spec.Labels}}"])).trim();
    assert.deepEqual(JSON.parse(labels), {
      tier: "front",
      "com.docker.stack.namespace": "app",
      "com.docker.stack.image": "busybox:local",
    });
    assert.match(await ok(["secret", "ls", "--format", "{{.Name}}"]), /^app_token$/m);
    assert.match(await ok(["config", "ls", "--format", "{{.Name}}"]), /^app_conf$/m);
    const nets = (
      await ok(["service", "inspect", "app_web", "--format", "{{json .Spec.TaskTemplate.Networks}}"])
    ).trim();
    assert.equal(
      (JSON.parse(nets) as Array<{ Aliases: string[] }>).every((n) => n.Aliases.includes("web")),
      true,
      nets,
    );
    assert.match(await ok(["stack", "ls"]), /^app\s+2\b/m);
  });

  test("from a task, the other service resolves by its short name (network alias) and accepts TCP", async () => {
    const worker = await waitFor("a running app_worker container", async () => {
      const ids = execFileSync(
        "/usr/bin/docker",
        [
          "-H",
          "unix:///var/run/docker.sock",
          "ps",
          "-q",
          "--filter",
          "label=com.docker.swarm.service.name=app_worker",
        ],
        { encoding: "utf8" },
      )
        .split("\n")
        .filter(Boolean);
      return ids[0];
    });
    const host = (args: string[]) =>
      execFileSync("/usr/bin/docker", ["-H", "unix:///var/run/docker.sock", "exec", worker, ...args], {
        encoding: "utf8",
        input: "",
      });
    const lookup = await waitFor("web resolving from app_worker", async () => {
      try {
        return host(["nslookup", "web"]);
      } catch {
        return undefined;
      }
    });
    assert.match(lookup, /Name:\s+web\nAddress:\s+10\./);
    // A TCP connection to web:8080 (busybox nc exits 0 once connected).
    await waitFor("a TCP connection to web:8080", async () => {
      try {
        host(["nc", "-w", "2", "web", "8080"]);
        return true;
      } catch {
        return undefined;
      }
    });
  });

  test("redeploy unchanged: no task restarts", async () => {
    const before = await taskIds();
    await ok(["stack", "deploy", "--resolve-image", "never", "-c", file, "app"]);
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(await taskIds(), before);
  });

  test("docker stack rm removes services, networks, secret and config", async () => {
    await ok(["stack", "rm", "app"]);
    await waitFor(
      "nothing of stack app left",
      async () => ((await stackLeftovers()).length === 0 ? true : undefined),
      60_000,
    );
  });

  test("shoal stack deploy --wait, history, rollback", async () => {
    writeFileSync(file, composeFile(2, true));
    const first = await shoal(daemon.socket, [
      "stack",
      "deploy",
      "--wait",
      "--timeout",
      "120",
      "-c",
      file,
      "app",
    ]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /Waiting for app_web before app_worker \(depends_on\)/);
    assert.match(first.stdout, /Recorded revision 1 of stack app/);
    assert.match(first.stdout, /app_web: 2\/2 running ✓/);
    assert.match(first.stdout, /every service converged/);
    // The dependent came after its dependency.
    assert.ok(
      first.stdout.indexOf("Creating service app_web") < first.stdout.indexOf("Creating service app_worker"),
    );

    writeFileSync(file, composeFile(3, true));
    const second = await shoal(daemon.socket, ["stack", "deploy", "--wait", "-c", file, "app"]);
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.match(second.stdout, /Recorded revision 2 of stack app/);
    assert.deepEqual(await replicas(), ["app_web 3/3", "app_worker 1/1"]);

    const history = await shoal(daemon.socket, ["stack", "history", "app"]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^REVISION\s+CREATED\s+KIND\s+FILES\s+SERVICES$/m);
    assert.match(history.stdout, /^1\s+\S+\s+deploy\s+\S+docker-stack\.yml\s+web,worker$/m);
    assert.match(history.stdout, /^2 \*\s+/m);

    const rollback = await shoal(daemon.socket, ["stack", "rollback", "app", "--wait"]);
    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    assert.match(rollback.stdout, /Rolling back stack app to revision 1/);
    assert.match(rollback.stdout, /Recorded revision 3 of stack app \(rollback to 1\)/);
    await waitFor("app_web back to 2 replicas", async () =>
      (await replicas()).join(",") === "app_web 2/2,app_worker 1/1" ? true : undefined,
    );
    assert.match(
      (await shoal(daemon.socket, ["stack", "history", "app"])).stdout,
      /^3 \*\s+\S+\s+rollback to 1/m,
    );
  });

  test("shoal stack deploy --wait fails when a service cannot converge", async () => {
    const bad = join(dir, "bad.yml");
    writeFileSync(
      bad,
      `version: "3.8"\nservices:\n  sick:\n    image: busybox:local\n    command: ["sleep", "100000"]\n    healthcheck:\n      test: ["CMD", "false"]\n      interval: 1s\n      retries: 1\n`,
    );
    const res = await shoal(daemon.socket, [
      "stack",
      "deploy",
      "--wait",
      "--timeout",
      "10",
      "-c",
      bad,
      "sick",
    ]);
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stderr, /stack sick: not converged: sick_sick/);
    await daemon.docker(["stack", "rm", "sick"]);
  });
});
