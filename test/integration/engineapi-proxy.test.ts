/**
 * The Engine API server in front of the real dockerd, driven by the real docker CLIs (20.10 and
 * 28.2.2): proxying, hijacked attach/exec (with and without a TTY), exit codes, and shoal's own
 * /version, /info and swarm answers from a fake node backend.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MemoryLogger } from "../../src/base/index.ts";
import { EngineApiServer } from "../../src/engineapi/index.ts";
import { FakeNodeBackend, NOT_A_MANAGER } from "../../src/engineapi/testing/index.ts";
import {
  type CliOptions,
  DOCKER_20,
  DOCKER_28,
  dockerCli,
  dockerTty,
  ensureTestImage,
  removeLabelled,
  startDockerd,
  TEST_IMAGE,
} from "../helpers/docker.ts";

const LABEL = "shoal.test=engineapi-proxy";

let dir: string;
let socketPath: string;
let server: EngineApiServer;
const logger = new MemoryLogger();

before(async () => {
  await startDockerd();
  await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), "shoal-engineapi-it-"));
  socketPath = join(dir, "shoal.sock");
  server = new EngineApiServer({ socketPath, backend: new FakeNodeBackend(), logger });
  await server.start();
});

after(async () => {
  await server?.stop();
  await removeLabelled(LABEL);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const bin of [DOCKER_20, DOCKER_28]) {
  describe(`docker CLI ${bin} through shoal`, () => {
    const opts = (extra: CliOptions = {}): CliOptions => ({ host: socketPath, bin, ...extra });
    const cli = (args: string[], extra?: CliOptions) => dockerCli(args, opts(extra));
    const show = (r: { code: number; stdout: string; stderr: string }) =>
      `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

    it("docker version shows shoal serving API 1.41", async () => {
      const r = await cli(["version"]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Server: shoal /);
      assert.match(r.stdout, /API version:\s+1\.41/);
      const api = await cli(["version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}}"]);
      assert.equal(api.stdout.trim(), "1.41 1.24");
    });

    it("docker run --rm echoes and returns exit codes", async () => {
      const hi = await cli(["run", "--rm", "--label", LABEL, TEST_IMAGE, "echo", "hi"]);
      assert.equal(hi.code, 0, show(hi));
      assert.equal(hi.stdout, "hi\n");
      const three = await cli(["run", "--rm", "--label", LABEL, TEST_IMAGE, "sh", "-c", "exit 3"]);
      assert.equal(three.code, 3, show(three));
      const piped = await cli(["run", "--rm", "-i", "--label", LABEL, TEST_IMAGE, "cat"], {
        input: "from stdin\n",
      });
      assert.equal(piped.stdout, "from stdin\n", show(piped));
    });

    it("docker run -d, exec, logs, rm -f", async () => {
      const started = await cli([
        "run",
        "-d",
        "--label",
        LABEL,
        TEST_IMAGE,
        "sh",
        "-c",
        "echo started; echo oops >&2; exec httpd -f -p 80 -h /www",
      ]);
      assert.equal(started.code, 0, show(started));
      const id = started.stdout.trim();
      const cat = await cli(["exec", id, "cat", "/www/index.html"]);
      assert.equal(cat.stdout, "ok\n", show(cat));
      const piped = await cli(["exec", "-i", id, "sh", "-c", "cat; exit 5"], { input: "exec stdin\n" });
      assert.equal(piped.code, 5, show(piped));
      assert.equal(piped.stdout, "exec stdin\n");
      const logs = await cli(["logs", id]);
      assert.equal(logs.stdout, "started\n", show(logs));
      assert.equal(logs.stderr, "oops\n");
      const rm = await cli(["rm", "-f", id]);
      assert.equal(rm.code, 0, show(rm));
    });

    it("interactive exec -it and run -it work through a pseudo-terminal", async () => {
      const ctr = await cli(["run", "-d", "--label", LABEL, TEST_IMAGE, "sleep", "300"]);
      const id = ctr.stdout.trim();
      const typed = await dockerTty(
        ["exec", "-it", id, "sh"],
        opts({ input: "echo typed-$((40+2))\nexit 7\n" }),
      );
      assert.equal(typed.code, 7, show(typed));
      assert.match(typed.stdout, /typed-42/);
      const once = await dockerTty(["exec", "-it", id, "sh", "-c", "echo in-tty"], opts());
      assert.equal(once.code, 0, show(once));
      assert.match(once.stdout, /in-tty\r\n/);
      const run = await dockerTty(
        ["run", "--rm", "-it", "--label", LABEL, TEST_IMAGE, "sh", "-c", "echo run-it; exit 6"],
        opts(),
      );
      assert.equal(run.code, 6, show(run));
      assert.match(run.stdout, /run-it/);
      await cli(["rm", "-f", id]);
    });

    it("docker info shows shoal's swarm section", async () => {
      const r = await cli(["info"]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Swarm: inactive/);
    });

    it("swarm commands on a node outside a swarm get Swarm's 503 text", async () => {
      const r = await cli(["swarm", "update", "--autolock=true"]);
      assert.equal(r.code, 1, show(r));
      assert.equal(r.stderr.trim(), `Error response from daemon: ${NOT_A_MANAGER}`);
    });
  });
}
