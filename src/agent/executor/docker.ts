/**
 * The only file that talks to dockerd. A thin, typed wrapper around dockerode implementing the
 * executor's ContainerEngine port; dockerode's loose types stop here. Errors become ShoalErrors:
 * NotFound, Conflict, InvalidArgument, Unavailable (daemon unreachable: the controller retries) or
 * Internal.
 */
import Dockerode from "dockerode";
import type { NodeDescription } from "../../api/index.ts";
import { ErrorCode, ShoalError } from "../../base/index.ts";
import type { ContainerCreateRequest } from "./container-config.ts";
import { LABEL_NODE_ID, LABEL_SERVICE_ID, LABEL_TASK, LABEL_TASK_ID } from "./container-config.ts";
import { describeFromInfo } from "./describe.ts";
import { arr, num, rec, str } from "./narrow.ts";
import { FrameDecoder } from "./stdcopy.ts";
import type {
  ContainerEngine,
  ContainerEvent,
  EventSubscription,
  HealthState,
  LogLine,
  LogsOptions,
  ObservedContainer,
  TaskContainerSummary,
} from "./types.ts";

const TEMPORARY_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"]);

/** dockerode error → ShoalError with dockerd's own message. */
export function engineError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const e = rec(err);
  const status = num(e.statusCode);
  const raw = str(rec(e.json).message) || (err instanceof Error ? err.message : String(err));
  // docker-modem prefixes dockerd's message with "(HTTP code N) <reason> - "
  const message = raw.replace(/^\(HTTP code \d+\) .*? - /, "");
  const code = TEMPORARY_CODES.has(str(e.code))
    ? ErrorCode.Unavailable
    : status === 404
      ? ErrorCode.NotFound
      : status === 409
        ? ErrorCode.Conflict
        : status === 400
          ? ErrorCode.InvalidArgument
          : ErrorCode.Internal;
  const text = code === ErrorCode.Unavailable ? `cannot reach dockerd: ${message}` : message.trim();
  return new ShoalError(code, text, { cause: err });
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw engineError(err);
  }
}

/** `name:tag`/`name@digest` → createImage's fromImage + tag, so that one tag is pulled, never all. */
function pullParams(ref: string): { fromImage: string; tag?: string } {
  const at = ref.indexOf("@");
  if (at >= 0) {
    const name = ref.slice(0, at);
    const colon = name.lastIndexOf(":");
    const bare = colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
    return { fromImage: bare, tag: ref.slice(at + 1) };
  }
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: "latest" };
}

export function parseInspect(raw: unknown): ObservedContainer {
  const c = rec(raw);
  const state = rec(c.State);
  const health = str(rec(state.Health).Status);
  return {
    id: str(c.Id),
    name: str(c.Name).replace(/^\//, ""),
    state: (str(state.Status) || "created") as ObservedContainer["state"],
    exitCode: num(state.ExitCode),
    pid: num(state.Pid),
    error: str(state.Error),
    oomKilled: state.OOMKilled === true,
    health: (["starting", "healthy", "unhealthy"].includes(health) ? health : "none") as HealthState,
    labels: rec(rec(c.Config).Labels) as Record<string, string>,
  };
}

export function parseEvent(raw: unknown): ContainerEvent | undefined {
  const m = rec(raw);
  if (str(m.Type) !== "container") return undefined;
  const attrs = rec(rec(m.Actor).Attributes) as Record<string, string>;
  const taskId = str(attrs[LABEL_TASK_ID]);
  if (!taskId) return undefined;
  const action = str(m.Action);
  const base = {
    containerId: str(rec(m.Actor).ID),
    name: str(attrs.name),
    taskId,
    timeNano: num(m.timeNano),
  };
  if (action.startsWith("health_status")) {
    const h = action.slice(action.indexOf(":") + 1).trim();
    return { ...base, action: "health_status", health: (h || "none") as HealthState };
  }
  if (action === "die") return { ...base, action: "die", exitCode: num(Number(attrs.exitCode)) };
  const known = ["create", "start", "oom", "kill", "stop", "destroy"] as const;
  const k = known.find((a) => a === action);
  return { ...base, action: k ?? "other" };
}

/** Splits a newline-delimited JSON stream into objects. */
function jsonLines(onObject: (o: unknown) => void): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("utf8");
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onObject(JSON.parse(line));
    }
  };
}

export interface DockerEngineOptions {
  /** Default `/var/run/docker.sock`. */
  socketPath?: string;
}

/** ContainerEngine on a real dockerd. */
export class DockerEngine implements ContainerEngine {
  private readonly docker: Dockerode;

  constructor(opts: DockerEngineOptions = {}) {
    this.docker = new Dockerode({ socketPath: opts.socketPath ?? "/var/run/docker.sock" });
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await call(() => this.docker.getImage(ref).inspect());
      return true;
    } catch (err) {
      if (ShoalError.is(err, ErrorCode.NotFound)) return false;
      throw err;
    }
  }

  async pullImage(ref: string, opts: { registryAuth?: string; signal?: AbortSignal } = {}): Promise<void> {
    const auth = opts.registryAuth ? { key: opts.registryAuth } : undefined;
    const stream = await call(() => this.docker.createImage(auth, pullParams(ref)));
    await new Promise<void>((resolve, reject) => {
      let failure = "";
      const onAbort = () =>
        (stream as unknown as { destroy(e?: Error): void }).destroy(new Error("pull cancelled"));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      stream.on(
        "data",
        jsonLines((o) => {
          // progress is ignored; the stream's last object carries the error, if any
          const e = str(rec(o).error);
          if (e) failure = e;
        }),
      );
      stream.on("error", (err: unknown) => reject(engineError(err)));
      stream.on("end", () => {
        opts.signal?.removeEventListener("abort", onAbort);
        if (failure) reject(new ShoalError(ErrorCode.NotFound, failure));
        else resolve();
      });
    });
  }

  async createContainer(req: ContainerCreateRequest): Promise<string> {
    const c = await call(() =>
      this.docker.createContainer({ name: req.name, ...req.body } as Dockerode.ContainerCreateOptions),
    );
    return c.id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    await call(() => this.docker.getContainer(nameOrId).start());
  }

  async inspectContainer(nameOrId: string): Promise<ObservedContainer | null> {
    try {
      return parseInspect(await call(() => this.docker.getContainer(nameOrId).inspect()));
    } catch (err) {
      if (ShoalError.is(err, ErrorCode.NotFound)) return null;
      throw err;
    }
  }

  /** Waits until the container is not running; resolves with its exit code. */
  async waitContainer(nameOrId: string): Promise<number> {
    const r = await call(() => this.docker.getContainer(nameOrId).wait({ condition: "not-running" }));
    return num(rec(r).StatusCode);
  }

  async stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void> {
    const opts = timeoutSeconds === undefined ? {} : { t: timeoutSeconds };
    await this.tolerate(() => this.docker.getContainer(nameOrId).stop(opts), [304, 404]);
  }

  async killContainer(nameOrId: string, signal = "SIGKILL"): Promise<void> {
    await this.tolerate(() => this.docker.getContainer(nameOrId).kill({ signal }), [404, 409]);
  }

  async removeContainer(nameOrId: string): Promise<void> {
    await this.tolerate(
      () => this.docker.getContainer(nameOrId).remove({ force: true, v: true }),
      [404, 409],
    );
  }

  async listTaskContainers(filter: { nodeId?: string } = {}): Promise<TaskContainerSummary[]> {
    const label = [LABEL_TASK_ID];
    if (filter.nodeId) label.push(`${LABEL_NODE_ID}=${filter.nodeId}`);
    const list = await call(() => this.docker.listContainers({ all: true, filters: { label } }));
    return list.map((c) => {
      const labels = (c.Labels ?? {}) as Record<string, string>;
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? "").replace(/^\//, ""),
        taskId: labels[LABEL_TASK_ID] ?? "",
        serviceId: labels[LABEL_SERVICE_ID] ?? "",
        nodeId: labels[LABEL_NODE_ID] ?? "",
        state: c.State,
        labels,
      };
    });
  }

  subscribeEvents(onEvent: (e: ContainerEvent) => void, onError: (err: unknown) => void): EventSubscription {
    let closed = false;
    let stream: NodeJS.ReadableStream | undefined;
    const filters = JSON.stringify({ type: ["container"], label: [LABEL_TASK] });
    this.docker.getEvents({ filters }).then(
      (s) => {
        stream = s;
        if (closed) return destroy(s);
        s.on(
          "data",
          jsonLines((o) => {
            const e = parseEvent(o);
            if (e) onEvent(e);
          }),
        );
        s.on("error", (err: unknown) => closed || onError(engineError(err)));
        s.on(
          "end",
          () => closed || onError(new ShoalError(ErrorCode.Unavailable, "dockerd event stream ended")),
        );
      },
      (err: unknown) => closed || onError(engineError(err)),
    );
    return {
      close: () => {
        closed = true;
        if (stream) destroy(stream);
      },
    };
  }

  async *logs(nameOrId: string, opts: LogsOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    const container = this.docker.getContainer(nameOrId);
    const tty = rec(rec(await call(() => container.inspect())).Config).Tty === true;
    const query = {
      follow: opts.follow ?? false,
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      timestamps: opts.timestamps ?? false,
      details: opts.details ?? false,
      since: opts.since ?? 0,
      tail: opts.tail ?? "all",
    };
    const decoder = new FrameDecoder(tty);
    const raw: unknown = await call(() =>
      container.logs(query as Dockerode.ContainerLogsOptions & { follow: true }),
    );
    if (Buffer.isBuffer(raw)) {
      yield* [...decoder.push(raw), ...decoder.flush()];
      return;
    }
    const stream = raw as NodeJS.ReadableStream & { destroy(): void };
    const onAbort = () => stream.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const chunk of stream) yield* decoder.push(Buffer.from(chunk as Buffer));
      yield* decoder.flush();
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stream.destroy();
    }
  }

  async describe(): Promise<NodeDescription> {
    const info = await call(() => this.docker.info());
    let plugins: unknown[] = [];
    try {
      plugins = arr(await this.docker.listPlugins());
    } catch {
      plugins = []; // managed plugins are optional; /info's v1 plugins still describe the node
    }
    return describeFromInfo(info, plugins);
  }

  private async tolerate(fn: () => Promise<unknown>, statuses: number[]): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (statuses.includes(num(rec(err).statusCode))) return;
      throw engineError(err);
    }
  }
}

function destroy(s: NodeJS.ReadableStream): void {
  (s as NodeJS.ReadableStream & { destroy(): void }).destroy();
}
