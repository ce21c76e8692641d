/**
 * `GET /services/{id}/logs` and `GET /tasks/{id}/logs`: the task containers' logs, merged into one
 * stdcopy stream with the details the docker CLI needs to name each line (`svc.slot.id@node`).
 * Headers go out at once; later failures are reported in-band on the system-error stream, as moby
 * does. With `follow`, tasks that start later join the stream.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Task } from "../../api/index.ts";
import { invalidArgument } from "../../base/index.ts";
import type { TaskLogLine, TaskLogOptions } from "../backend.ts";
import { boolValue } from "../http/query.ts";
import { StdcopyWriter, StdStream } from "../http/stdcopy.ts";
import type { EngineApp, RouteDeps } from "./types.ts";

type Query = Record<string, string | undefined>;

/** How often a follow looks for new tasks of the service. */
const NEW_TASK_POLL_MS = 1000;

export function registerLogRoutes(app: EngineApp, deps: RouteDeps): void {
  app.get("/services/:id/logs", (request, reply) =>
    streamLogs(request, reply, deps, () => {
      const control = deps.backend.control();
      const service = control.getService(param(request));
      return () => control.listTasks({ service: [service.ID] });
    }),
  );
  app.get("/tasks/:id/logs", (request, reply) =>
    streamLogs(request, reply, deps, () => {
      const control = deps.backend.control();
      const task = control.getTask(param(request));
      return () => [control.getTask(task.ID)];
    }),
  );
}

const param = (request: FastifyRequest): string => (request.params as { id: string }).id;

export function logOptions(query: Query): TaskLogOptions & { timestamps: boolean; details: boolean } {
  const stdout = boolValue(query.stdout);
  const stderr = boolValue(query.stderr);
  if (!stdout && !stderr) throw invalidArgument("Bad parameters: you must choose at least one stream");
  const tailText = query.tail ?? "all";
  let tail: number | "all" = "all";
  if (tailText !== "all" && tailText !== "") {
    const n = Number.parseInt(tailText, 10);
    if (Number.isNaN(n)) throw invalidArgument(`invalid tail value ${JSON.stringify(tailText)}`);
    if (n >= 0) tail = n;
  }
  let since: number | undefined;
  if (query.since && query.since !== "0") {
    since = Number.parseFloat(query.since);
    if (Number.isNaN(since)) throw invalidArgument(`invalid since value ${JSON.stringify(query.since)}`);
  }
  return {
    stdout,
    stderr,
    follow: boolValue(query.follow),
    timestamps: boolValue(query.timestamps),
    details: boolValue(query.details),
    tail,
    ...(since !== undefined ? { since } : {}),
  };
}

/** The `details` prefix Swarm adds: sorted k=v pairs, URL-query-escaped, comma-joined. */
export function detailsPrefix(task: Task): string {
  const pairs: Array<[string, string]> = [
    ["com.docker.swarm.node.id", task.NodeID ?? ""],
    ["com.docker.swarm.service.id", task.ServiceID ?? ""],
    ["com.docker.swarm.task.id", task.ID],
  ];
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(",");
}

export function formatLine(
  task: Task,
  line: TaskLogLine,
  opts: { timestamps: boolean; details: boolean },
): Buffer {
  const prefix = `${opts.timestamps ? `${line.timestamp} ` : ""}${opts.details ? `${detailsPrefix(task)} ` : ""}`;
  return Buffer.concat([Buffer.from(prefix), line.line]);
}

/** Tasks that have (or had) a container: assigned to a node and past the scheduler. */
const hasContainer = (t: Task): boolean =>
  !!t.NodeID && !["new", "pending", "allocated"].includes(t.Status?.State ?? "new");

async function streamLogs(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: RouteDeps,
  resolveTasks: () => () => Task[],
): Promise<void> {
  const opts = logOptions(request.query as Query);
  const listTasks = resolveTasks();
  const res = reply.raw;
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  reply.hijack();
  res.writeHead(200, { "Content-Type": "application/vnd.docker.raw-stream" });
  res.flushHeaders();
  const out = new StdcopyWriter(res);
  const started = new Set<string>();
  const streams: Array<Promise<void>> = [];
  const startNew = () => {
    for (const task of listTasks().filter(hasContainer)) {
      if (started.has(task.ID)) continue;
      started.add(task.ID);
      streams.push(pump(deps, task, opts, out, abort.signal));
    }
  };
  try {
    startNew();
    if (opts.follow) {
      while (!abort.signal.aborted) {
        await new Promise((r) => setTimeout(r, NEW_TASK_POLL_MS));
        if (!abort.signal.aborted) startNew();
      }
    }
    await Promise.all(streams);
  } catch (err) {
    if (!abort.signal.aborted) await out.writeSystemError(`Error grabbing logs: ${(err as Error).message}\n`);
  } finally {
    res.end();
  }
}

async function pump(
  deps: RouteDeps,
  task: Task,
  opts: ReturnType<typeof logOptions>,
  out: StdcopyWriter,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const line of deps.backend.taskLogs(task, opts, signal)) {
      if (signal.aborted) return;
      await out.write(
        line.stream === "stderr" ? StdStream.Stderr : StdStream.Stdout,
        formatLine(task, line, opts),
      );
    }
  } catch (err) {
    if (signal.aborted) return;
    deps.logger.debug({ err, "task.id": task.ID }, "task log stream failed");
    await out.writeSystemError(`Error grabbing logs: ${(err as Error).message}\n`);
  }
}
