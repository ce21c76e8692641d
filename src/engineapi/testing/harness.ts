/** An EngineApiServer on a temp socket in front of a FakeDockerd, with a FakeNodeBackend. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLogger } from "../../base/index.ts";
import { EngineApiServer } from "../server.ts";
import { FakeControlApi, FakeNodeBackend } from "./fake-backend.ts";
import { FakeDockerd } from "./fake-dockerd.ts";

export interface Harness {
  server: EngineApiServer;
  dockerd: FakeDockerd;
  backend: FakeNodeBackend;
  logger: MemoryLogger;
  socketPath: string;
  stop(): Promise<void>;
}

export async function startHarness(
  opts: { manager?: boolean; tcp?: boolean; socketGid?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-engineapi-"));
  const socketPath = join(dir, "shoal.sock");
  const dockerd = new FakeDockerd();
  await dockerd.start();
  const backend = new FakeNodeBackend(opts.manager ? new FakeControlApi() : undefined);
  const logger = new MemoryLogger();
  const server = new EngineApiServer({
    socketPath,
    dockerSocket: dockerd.socketPath,
    backend,
    logger,
    shoalVersion: "9.9.9",
    ...(opts.socketGid !== undefined ? { socketGid: opts.socketGid } : {}),
    ...(opts.tcp ? { tcp: { host: "127.0.0.1", port: 0 } } : {}),
  });
  await server.start();
  return {
    server,
    dockerd,
    backend,
    logger,
    socketPath,
    async stop() {
      await server.stop();
      await dockerd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
