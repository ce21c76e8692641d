/**
 * Issue #5: swarm autolock on one node, with the real docker CLI. init --autolock prints the key
 * and wraps the keys on disk; after kill -9 the node is locked (every swarm call gets moby's
 * error, containers keep running); wrong and malformed keys are refused; unlock resumes the node
 * and adopts its tasks; rotation makes the old key useless; turning autolock off stores the keys
 * plain again; a locked node leaves only with --force.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isWrappedPrivateKey, parseUnlockKey, unwrapPrivateKey } from "../../src/ca/index.ts";
import { liveDirOf } from "../../src/daemon/node-keys.ts";
import { hostDocker } from "../helpers/docker.ts";
import { DOCKER_28, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const LOCKED =
  'Error response from daemon: Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.';
const KEY_RE = /SWMKEY-1-[A-Za-z0-9+/]+/;

function pingSwarmHeader(socket: string): Promise<string | undefined> {
  return new Promise((done, fail) => {
    const req = request({ socketPath: socket, path: "/_ping", method: "GET" }, (res) => {
      res.resume();
      done(res.headers.swarm as string | undefined);
    });
    req.on("error", fail);
    req.end();
  });
}

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

describe("swarm autolock on one node", () => {
  const daemon = new ShoalDaemon();
  const keyPath = join(daemon.dataDir, "swarm/certificates/swarm-node.key");
  const dataKeyPath = join(daemon.dataDir, "swarm/keys/data.key");
  let nodeId = "";
  let key = "";
  let container = "";

  const ok = async (args: string[], input?: string) => {
    const res = await daemon.docker(args, input === undefined ? {} : { input });
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const fails = async (args: string[], stderr: string, input?: string) => {
    const res = await daemon.docker(args, input === undefined ? {} : { input });
    assert.notEqual(res.code, 0, `docker ${args.join(" ")} should fail: ${res.stdout}`);
    assert.equal(res.stderr.trim(), stderr);
  };
  const localState = async () => (await ok(["info", "--format", "{{.Swarm.LocalNodeState}}"])).trim();
  const webContainers = () =>
    hostDocker(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=locked-web"])
      .split("\n")
      .filter(Boolean);
  /** The keys on disk are wrapped by this unlock key (the rewrap runs just after the update). */
  const wrappedBy = (unlockKey: string) =>
    waitFor(`the node key wrapped by ${unlockKey.slice(0, 12)}...`, async () => {
      const pem = readFileSync(keyPath, "utf8");
      return unwrapPrivateKey(pem, parseUnlockKey(unlockKey)) !== undefined;
    });
  const restart = async () => {
    await daemon.kill("SIGKILL");
    await daemon.start();
  };

  before(async () => {
    await daemon.start();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId);
  });

  test("init --autolock prints the unlock key and nothing plain is left on disk", async () => {
    const init = await daemon.init(["--autolock"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /To unlock a swarm manager after it restarts, run the `docker swarm unlock`\n/);
    key = KEY_RE.exec(init.stdout)?.[0] ?? "";
    assert.equal((await ok(["swarm", "unlock-key", "-q"])).trim(), key);
    assert.equal(
      (await ok(["info", "--format", "{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}"])).trim(),
      "true",
    );
    assert.ok(!(await ok(["swarm", "ca"])).includes(key));
    assert.ok(isWrappedPrivateKey(readFileSync(keyPath, "utf8")));
    assert.notEqual(readFileSync(dataKeyPath).length, 32);
    nodeId = (await ok(["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    await ok(["service", "create", "-q", "--name", "locked-web", "busybox:local", "sleep", "3600"]);
    container = await waitFor("the task's container", async () => webContainers()[0]);
  });

  test("after kill -9 the node is locked: swarm calls refused, containers keep running", async () => {
    await restart();
    assert.equal(await localState(), "locked");
    assert.equal(await pingSwarmHeader(daemon.socket), "locked");
    await fails(["service", "ls"], LOCKED);
    await fails(["node", "ls"], LOCKED);
    await fails(["swarm", "unlock-key"], `could not fetch unlock key: ${LOCKED}`);
    await fails(
      ["swarm", "leave"],
      "Error response from daemon: Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.",
    );
    assert.equal(
      (await ok(["ps", "-q", "--filter", `id=${container}`])).trim().length > 0,
      true,
      "proxied and still running",
    );
    assert.ok(!existsSync(liveDirOf(daemon.dataDir)), "no plain key copy while locked");
  });

  test("wrong and malformed keys are refused; the right one resumes the node and adopts its task", async () => {
    await fails(["swarm", "unlock"], "Error response from daemon: invalid key string", "not-a-key\n");
    await fails(
      ["swarm", "unlock"],
      "Error response from daemon: swarm could not be unlocked: invalid key provided",
      "SWMKEY-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    );
    assert.equal(await localState(), "locked");
    await ok(["swarm", "unlock"], `${key}\n`);
    assert.equal(await localState(), "active");
    await fails(["swarm", "unlock"], "Error: swarm is not locked", `${key}\n`);
    await waitFor("locked-web 1/1", async () =>
      (await ok(["service", "ls", "--format", "{{.Name}} {{.Replicas}}"])).includes("locked-web 1/1"),
    );
    assert.deepEqual(webContainers(), [container], "the running container was adopted, not replaced");
  });

  test("unlock-key --rotate: the old key no longer unlocks, the new one does", async () => {
    const rotated = await ok(["swarm", "unlock-key", "--rotate"]);
    assert.match(rotated, /^Successfully rotated manager unlock key\.\n/);
    const fresh = KEY_RE.exec(rotated)?.[0] ?? "";
    assert.notEqual(fresh, key);
    await wrappedBy(fresh);
    await restart();
    assert.equal(await localState(), "locked");
    await fails(
      ["swarm", "unlock"],
      "Error response from daemon: swarm could not be unlocked: invalid key provided",
      `${key}\n`,
    );
    const unlock = await daemon.docker(["swarm", "unlock"], { bin: DOCKER_28, input: `${fresh}\n` });
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.equal(await localState(), "active");
    key = fresh;
  });

  test("--autolock=false stores the keys plain again; a restart is not locked", async () => {
    assert.equal((await ok(["swarm", "update", "--autolock=false"])).trim(), "Swarm updated.");
    await fails(["swarm", "unlock-key"], "no unlock key is set");
    await fails(["swarm", "unlock-key", "--rotate"], "cannot rotate because autolock is not turned on");
    await waitFor("a plain node key", async () => !isWrappedPrivateKey(readFileSync(keyPath, "utf8")));
    await waitFor("a plain data key", async () => readFileSync(dataKeyPath).length === 32);
    await restart();
    assert.equal(await localState(), "active");
  });

  test("--autolock=true again: a new key, locked after restart, leave needs --force", async () => {
    const out = await ok(["swarm", "update", "--autolock=true"]);
    assert.match(out, /^Swarm updated\.\nTo unlock a swarm manager/);
    const fresh = KEY_RE.exec(out)?.[0] ?? "";
    assert.notEqual(fresh, key);
    await wrappedBy(fresh);
    await restart();
    assert.equal(await localState(), "locked", daemon.log().slice(-3000));
    assert.equal((await ok(["swarm", "leave", "--force"])).trim(), "Node left the swarm.");
    assert.equal(await localState(), "inactive");
    assert.ok(!existsSync(join(daemon.dataDir, "swarm")));
  });
});
