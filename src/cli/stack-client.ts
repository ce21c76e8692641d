/** The Engine API calls the `shoal stack` commands make, failing with the daemon's message. */
import { type EngineResponse, engineRequest, errorMessage } from "./engine-client.ts";

export class StackApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** `{"label": {"k=v": true}}` as the docker CLI encodes filters. */
export function filtersQuery(filters: Record<string, string[]>): string {
  const body: Record<string, Record<string, boolean>> = {};
  for (const [k, values] of Object.entries(filters))
    body[k] = Object.fromEntries(values.map((v) => [v, true]));
  return `filters=${encodeURIComponent(JSON.stringify(body))}`;
}

export class StackClient {
  constructor(readonly socket: string) {}

  async call(method: string, path: string, body?: unknown): Promise<EngineResponse> {
    return engineRequest(this.socket, method, path, body);
  }

  /** The body of a 2xx answer; anything else throws the daemon's message. */
  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    if (res.status < 200 || res.status >= 300) throw new StackApiError(errorMessage(res), res.status);
    return res.body as T;
  }

  /** A GET that may answer 404: undefined then. */
  async find<T>(path: string): Promise<T | undefined> {
    const res = await this.call("GET", path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw new StackApiError(errorMessage(res), res.status);
    return res.body as T;
  }
}

export interface ServiceView {
  ID: string;
  Version: { Index: number };
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { ForceUpdate?: number; ContainerSpec?: { Image?: string } };
    Mode?: Record<string, unknown>;
  };
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks?: number };
  UpdateStatus?: { State?: string; Message?: string };
}

export const stackFilter = (namespace: string): string =>
  filtersQuery({ label: [`com.docker.stack.namespace=${namespace}`] });

export async function stackServices(
  client: StackClient,
  namespace: string,
  status = false,
): Promise<ServiceView[]> {
  return client.ok<ServiceView[]>(
    "GET",
    `/services?${stackFilter(namespace)}${status ? "&status=true" : ""}`,
  );
}
