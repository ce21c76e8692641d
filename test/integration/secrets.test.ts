/**
 * Issue: secrets and configs, end to end, with rotation. The real docker CLI against a real shoal
 * daemon and dockerd: create/ls/inspect (no data), limits and Swarm's error texts, services that
 * mount secrets and configs (content, owner, mode, tmpfs-backed, read-only), removal refused while
 * in use, rotation by `service update` and by `shoal secret rotate`, the per-task tmpfs gone with
 * the service, and the secret's value absent from the daemon's debug log and the etcd data dir.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hostDocker, serviceContainers } from "../helpers/docker.ts";
import { SHOAL_BIN, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const SECRET = "s3cr3t";
const ROTATED = "n3w-s3cr3t";

/** Every file under dir whose bytes contain needle (grep -r, binary files included). */
function filesContaining(dir: string, needle: string): string[] {
  try {
    return execFileSync("grep", ["-rl", "--binary-files=text", "-F", needle, dir], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // grep exits 1 when nothing matches
  }
}

const secretMounts = () =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith("/run/shoal/secrets/"));

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

describe("secrets and configs with the docker CLI", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  const ok = async (args: string[], input?: string) => {
    const res = await daemon.docker(args, input === undefined ? {} : { input });
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const fails = async (args: string[], input?: string) => {
    const res = await daemon.docker(args, input === undefined ? {} : { input });
    assert.notEqual(res.code, 0, `docker ${args.join(" ")} should fail: ${res.stdout}`);
    return res.stderr.trim();
  };
  const containerOf = async (service: string) =>
    waitFor(`a running container of ${service}`, async () => {
      const ids = serviceContainers(nodeId, service);
      return ids.length === 1 ? ids[0] : undefined;
    });
  const exec = (ctr: string, cmd: string[]) => hostDocker(["exec", ctr, ...cmd]);
  const taskIds = async (service: string) =>
    (await ok(["service", "ps", service, "-q", "--no-trunc"])).split("\n").filter(Boolean);

  before(async () => {
    nodeId = await daemon.startSwarm();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId);
  });

  test("secret create, ls and inspect: the data never comes back", async () => {
    const id = (await ok(["secret", "create", "--label", "app=db", "db_pass", "-"], SECRET)).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const ls = await ok(["secret", "ls", "--format", "{{.ID}} {{.Name}}"]);
    assert.match(ls, new RegExp(`^${id} db_pass$`, "m"));
    const inspect = await ok(["secret", "inspect", "db_pass"]);
    const [obj] = JSON.parse(inspect) as Array<{ ID: string; Spec: Record<string, unknown> }>;
    assert.equal(obj?.ID, id);
    assert.deepEqual(obj?.Spec.Labels, { app: "db" });
    assert.equal("Data" in (obj?.Spec ?? {}), false);
    assert.equal(inspect.includes(Buffer.from(SECRET).toString("base64")), false);
    const pretty = await ok(["secret", "inspect", "--pretty", id.slice(0, 6)]);
    assert.match(pretty, /Name:\s+db_pass/);
  });

  test("limits and conflicts answer with Swarm's texts", async () => {
    assert.equal(
      await fails(["secret", "create", "db_pass", "-"], "other"),
      "Error response from daemon: rpc error: code = AlreadyExists desc = secret db_pass already exists",
    );
    const big = "x".repeat(500 * 1024);
    assert.equal(
      await fails(["secret", "create", "big", "-"], big),
      "Error response from daemon: rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes",
    );
    await ok(["secret", "create", "almost_big", "-"], big.slice(1));
    await ok(["secret", "rm", "almost_big"]);
    assert.match(
      await fails(["secret", "create", "--driver", "vault", "ext"]),
      /secret driver "vault" is not supported/,
    );
    assert.match(await fails(["secret", "create", "bad-", "-"], "x"), /invalid name, only 64/);
  });

  test("configs: create, inspect shows the data", async () => {
    await ok(["config", "create", "app_conf", "-"], "listen=80\n");
    const pretty = await ok(["config", "inspect", "--pretty", "app_conf"]);
    assert.match(pretty, /listen=80/);
    assert.match(
      await fails(["config", "create", "--template-driver", "golang", "tpl", "-"], "{{.Service.Name}}"),
      /templating driver "golang" is not supported/,
    );
  });

  test("a service mounts them: content, owner, mode, read-only, from a tmpfs", async () => {
    await ok([
      "service",
      "create",
      "--name",
      "app",
      "--secret",
      "db_pass",
      "--secret",
      "source=db_pass,target=/run/secrets/pw,uid=1000,gid=1000,mode=0400",
      "--config",
      "source=app_conf,target=/etc/app.conf",
      "busybox:local",
      "sleep",
      "1000000",
    ]);
    const ctr = await containerOf("app");
    assert.equal(exec(ctr, ["cat", "/run/secrets/db_pass"]), SECRET);
    assert.equal(exec(ctr, ["cat", "/run/secrets/pw"]), SECRET);
    assert.equal(exec(ctr, ["stat", "-c", "%u %g %a", "/run/secrets/pw"]).trim(), "1000 1000 400");
    assert.equal(exec(ctr, ["stat", "-c", "%u %g %a", "/run/secrets/db_pass"]).trim(), "0 0 444");
    assert.equal(exec(ctr, ["cat", "/etc/app.conf"]), "listen=80\n");
    const mounts = exec(ctr, ["cat", "/proc/mounts"]).split("\n");
    for (const target of ["/run/secrets/db_pass", "/run/secrets/pw", "/etc/app.conf"]) {
      const line = mounts.find((l) => l.split(" ")[1] === target) ?? "";
      assert.match(line, /^tmpfs \S+ tmpfs ro,/, `${target} in /proc/mounts: ${line}`);
    }
    assert.throws(() => exec(ctr, ["sh", "-c", "echo x > /run/secrets/pw"]));
    const [task] = await taskIds("app");
    assert.ok(secretMounts().includes(`/run/shoal/secrets/${task}`), "a tmpfs per task on the host");
  });

  test("removal while in use is refused with Swarm's text", async () => {
    assert.equal(
      await fails(["secret", "rm", "db_pass"]),
      "Error response from daemon: rpc error: code = InvalidArgument desc = secret 'db_pass' is in use by the following service: app",
    );
    assert.equal(
      await fails(["config", "rm", "app_conf"]),
      "Error response from daemon: rpc error: code = InvalidArgument desc = config 'app_conf' is in use by the following service: app",
    );
  });

  test("rotation with service update --secret-rm/--secret-add", async () => {
    const before = await taskIds("app");
    await ok(["secret", "create", "db_pass_v2", "-"], ROTATED);
    await ok([
      "service",
      "update",
      "--secret-rm",
      "db_pass",
      "--secret-add",
      "source=db_pass_v2,target=db_pass",
      "app",
    ]);
    const ctr = await waitFor("the updated container", async () => {
      const c = await containerOf("app");
      return exec(c, ["cat", "/run/secrets/db_pass"]) === ROTATED ? c : undefined;
    });
    assert.throws(
      () => exec(ctr, ["cat", "/run/secrets/pw"]),
      "the pw reference was removed with --secret-rm",
    );
    // The replaced task's container is kept (task history) but its secrets left the host when it
    // stopped, as moby unmounts them in its container Cleanup.
    await waitFor("the old task's tmpfs gone", async () =>
      secretMounts().some((m) => before.some((t) => m.endsWith(t))) ? undefined : true,
    );
    await ok(["secret", "rm", "db_pass"]);
  });

  test("rotation with shoal secret rotate: next version, same target, rolling update", async () => {
    const out = execFileSync(SHOAL_BIN, ["secret", "rotate", "db_pass_v2", "-"], {
      input: "third",
      env: { ...process.env, DOCKER_HOST: `unix://${daemon.socket}` },
      encoding: "utf8",
    });
    assert.match(out, /^db_pass_v2\.v2 [0-9a-z]{25}\nupdated service app\n$/);
    await waitFor("the rotated container", async () => {
      const c = await containerOf("app");
      return exec(c, ["cat", "/run/secrets/db_pass"]) === "third" ? c : undefined;
    });
  });

  test("the per-task tmpfs is gone once the service is removed", async () => {
    const tasks = await taskIds("app");
    assert.ok(tasks.length > 0);
    await ok(["service", "rm", "app"]);
    await waitFor(
      "no secrets tmpfs left for app's tasks",
      async () => {
        const left = secretMounts().filter((m) => tasks.some((t) => m.endsWith(t)));
        return left.length === 0 ? true : undefined;
      },
      60_000,
    );
    await ok(["secret", "rm", "db_pass_v2", "db_pass_v2.v2"]);
    await ok(["config", "rm", "app_conf"]);
  });

  test("the secret's value is in neither the debug log nor etcd's data", async () => {
    const etcd = join(daemon.dataDir, "swarm", "etcd");
    assert.ok(
      execFileSync("find", [etcd, "-type", "f"], { encoding: "utf8" }).trim().length > 0,
      "etcd has data",
    );
    for (const needle of [SECRET, ROTATED, Buffer.from(SECRET).toString("base64")]) {
      assert.deepEqual(filesContaining(etcd, needle), [], `${needle} in etcd`);
      assert.equal(daemon.log().includes(needle), false, `${needle} in the daemon log`);
    }
  });

  test("swarm leave removes the task containers and their secrets tmpfs", async () => {
    await ok(["secret", "create", "last", "-"], "bye");
    await ok(["service", "create", "--name", "last", "--secret", "last", "busybox:local", "sleep", "100000"]);
    const tasks = await taskIds("last");
    assert.ok(secretMounts().some((m) => tasks.some((t) => m.endsWith(t))));
    await ok(["swarm", "leave", "--force"]);
    assert.deepEqual(
      secretMounts().filter((m) => tasks.some((t) => m.endsWith(t))),
      [],
    );
  });
});
