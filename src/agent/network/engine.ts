/**
 * The executor's engine with the data plane around it: a task container gets the node's DNS server
 * as `--dns` (unless its spec names nameservers), joins its further networks right after create
 * (dockerd 20.10 takes one network at create), and gets its VIP rules as soon as it has started.
 */

import type { NodeDescription } from "../../api/index.ts";
import { ErrorCode, ShoalError } from "../../base/index.ts";
import { type ContainerCreateRequest, LABEL_TASK_ID } from "../executor/container-config.ts";
import type {
  ContainerEngine,
  ContainerEvent,
  EventSubscription,
  LogLine,
  LogsOptions,
  ObservedContainer,
  TaskContainerSummary,
} from "../executor/types.ts";
import type { DataPlane } from "./dataplane.ts";
import type { LocalNetworkDriver } from "./types.ts";

export class NetworkedEngine implements ContainerEngine {
  constructor(
    private readonly inner: ContainerEngine,
    private readonly plane: DataPlane,
    private readonly driver: LocalNetworkDriver,
  ) {}

  async createContainer(req: ContainerCreateRequest, signal?: AbortSignal): Promise<string> {
    const taskId = req.body.Labels?.[LABEL_TASK_ID] ?? "";
    const dns = this.plane.nameserverFor(taskId);
    const hc = req.body.HostConfig;
    const body = dns && !hc.Dns?.length ? { ...req.body, HostConfig: { ...hc, Dns: [dns] } } : req.body;
    const id = await this.inner.createContainer({ ...req, body }, signal);
    for (const endpoint of this.plane.extraEndpoints(taskId)) {
      try {
        await this.driver.connect(id, endpoint);
      } catch (err) {
        // a retried create finds the container already connected
        if (err instanceof ShoalError && /already exists/i.test(err.message)) continue;
        await this.inner.removeContainer(id).catch(() => undefined);
        throw err instanceof ShoalError ? err : new ShoalError(ErrorCode.Internal, String(err));
      }
    }
    return id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    await this.inner.startContainer(nameOrId);
    const c = await this.inner.inspectContainer(nameOrId).catch(() => null);
    const taskId = c?.labels[LABEL_TASK_ID];
    if (taskId) await this.plane.applyRules(taskId);
  }

  imageExists(ref: string, signal?: AbortSignal): Promise<boolean> {
    return this.inner.imageExists(ref, signal);
  }
  pullImage(ref: string, opts?: { registryAuth?: string; signal?: AbortSignal }): Promise<void> {
    return this.inner.pullImage(ref, opts);
  }
  inspectContainer(nameOrId: string): Promise<ObservedContainer | null> {
    return this.inner.inspectContainer(nameOrId);
  }
  stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void> {
    return this.inner.stopContainer(nameOrId, timeoutSeconds);
  }
  killContainer(nameOrId: string, signal?: string): Promise<void> {
    return this.inner.killContainer(nameOrId, signal);
  }
  removeContainer(nameOrId: string): Promise<void> {
    return this.inner.removeContainer(nameOrId);
  }
  listTaskContainers(filter?: { nodeId?: string }): Promise<TaskContainerSummary[]> {
    return this.inner.listTaskContainers(filter);
  }
  subscribeEvents(onEvent: (e: ContainerEvent) => void, onError: (err: unknown) => void): EventSubscription {
    return this.inner.subscribeEvents(onEvent, onError);
  }
  logs(nameOrId: string, opts: LogsOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    return this.inner.logs(nameOrId, opts, signal);
  }
  describe(): Promise<NodeDescription> {
    return this.inner.describe();
  }
}
