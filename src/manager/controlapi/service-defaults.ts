/**
 * Defaults that appear on read: `GET /services/{id}?insertDefaults=true` fills what the stored spec
 * leaves out with SwarmKit's service defaults (`api/defaults/service.go`), and a service created
 * without a name gets a random `adjective_name`, as moby's namesgenerator gives one.
 */
import type { ServiceSpec } from "../../api/index.ts";
import type { Ids } from "../../base/index.ts";

const SECOND_NS = 1_000_000_000;
export const DEFAULT_STOP_GRACE_PERIOD_NS = 10 * SECOND_NS;
export const DEFAULT_RESTART_DELAY_NS = 5 * SECOND_NS;
export const DEFAULT_MONITOR_NS = 5 * SECOND_NS;

type UpdateConfig = NonNullable<ServiceSpec["UpdateConfig"]>;

const defaultUpdateConfig = (): UpdateConfig => ({
  Parallelism: 1,
  FailureAction: "pause",
  Monitor: DEFAULT_MONITOR_NS,
  MaxFailureRatio: 0,
  Order: "stop-first",
});

/** SwarmKit's InterpolateService over an Engine API spec; returns a new spec. */
export function insertDefaults(stored: ServiceSpec): ServiceSpec {
  const spec = structuredClone(stored);
  const task = spec.TaskTemplate ?? {};
  spec.TaskTemplate = task;
  const c = task.ContainerSpec;
  if (c) {
    c.StopGracePeriod ??= DEFAULT_STOP_GRACE_PERIOD_NS;
    c.DNSConfig ??= {};
  }
  task.Resources ??= {};
  if (!task.RestartPolicy) {
    task.RestartPolicy = { Condition: "any", Delay: DEFAULT_RESTART_DELAY_NS, MaxAttempts: 0 };
  } else {
    task.RestartPolicy.Delay ??= DEFAULT_RESTART_DELAY_NS;
  }
  task.Placement ??= {};
  spec.UpdateConfig = withMonitor(spec.UpdateConfig);
  spec.RollbackConfig = withMonitor(spec.RollbackConfig) as ServiceSpec["RollbackConfig"];
  return spec;
}

function withMonitor(u: UpdateConfig | undefined): UpdateConfig {
  if (!u) return defaultUpdateConfig();
  return u.Monitor ? u : { ...u, Monitor: DEFAULT_MONITOR_NS };
}

const ADJECTIVES = [
  "brave",
  "calm",
  "clever",
  "eager",
  "fervent",
  "gentle",
  "happy",
  "keen",
  "lucid",
  "nifty",
  "quirky",
  "serene",
  "sharp",
  "steady",
  "sweet",
  "tender",
  "upbeat",
  "vibrant",
  "witty",
  "zealous",
];
const NAMES = [
  "babbage",
  "curie",
  "dijkstra",
  "euler",
  "fermi",
  "gauss",
  "hopper",
  "hypatia",
  "kepler",
  "knuth",
  "lamport",
  "lovelace",
  "meitner",
  "noether",
  "pascal",
  "ritchie",
  "shannon",
  "tesla",
  "turing",
  "wozniak",
];

/** A random `adjective_name`, drawn from the injected ID source. */
export function randomServiceName(ids: Ids): string {
  const [a = 0, b = 0] = ids.randomBytes(2);
  return `${ADJECTIVES[a % ADJECTIVES.length]}_${NAMES[b % NAMES.length]}`;
}
