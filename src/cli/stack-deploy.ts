/**
 * `shoal stack deploy`: the same requests as `docker stack deploy` (networks, secrets, configs,
 * services with the stack labels; `--prune` removes dropped services), plus shoal's extras:
 * services created in `depends_on` order (a dependent waits for its dependencies to run), an
 * optional wait until everything converged, and a recorded revision under /shoal/v1/stacks.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  convertStack,
  dependencyOrder,
  type JsonObject,
  loadCompose,
  type StackObjects,
} from "../stack/index.ts";
import { type ServiceView, StackClient, stackFilter, stackServices } from "./stack-client.ts";
import { pinServiceImage, type ResolveImage } from "./stack-image.ts";
import { waitForServices } from "./stack-wait.ts";

export interface DeployOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface DeployOptions {
  prune?: boolean;
  /** Wait until every service converged, failing after `timeoutMs`. */
  wait?: boolean;
  timeoutMs?: number;
  io: DeployOutput;
  /** Variables for `${VAR}` in the compose files (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
  /** When to pin images to their registry digest (docker stack deploy's --resolve-image). */
  resolveImage?: ResolveImage;
}

interface Named {
  ID: string;
  Name?: string;
  Spec?: { Name?: string };
  Version?: { Index: number };
  Scope?: string;
}

/** Loads and converts compose files as the docker CLI does (env from the shell, paths from the first file). */
export function loadStackFiles(
  files: readonly string[],
  namespace: string,
  env = process.env,
): {
  objects: StackObjects;
  warnings: string[];
} {
  const first = files[0];
  if (!first) throw new Error("Please specify a Compose file (with --compose-file).");
  const opts = { env, workingDir: dirname(resolve(first)), readFile: (p: string) => readFileSync(p) };
  const sources = files.map((f) => ({ name: f, text: readFileSync(f === "-" ? 0 : f, "utf8") }));
  const loaded = loadCompose(sources, opts);
  return { objects: convertStack(namespace, loaded.model, opts), warnings: loaded.warnings };
}

async function ensureManager(client: StackClient): Promise<void> {
  const info = await client.ok<{ Swarm?: { ControlAvailable?: boolean } }>("GET", "/info");
  if (!info.Swarm?.ControlAvailable) {
    throw new Error(
      'this node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again',
    );
  }
}

async function deployNetworks(client: StackClient, o: StackObjects, io: DeployOutput): Promise<void> {
  for (const name of o.externalNetworks) {
    const net = await client.find<Named>(`/networks/${encodeURIComponent(name)}`);
    if (!net) {
      throw new Error(
        `network "${name}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed`,
      );
    }
    if (net.Scope !== "swarm") {
      throw new Error(
        `network "${name}" is declared as external, but it is not in the right scope: "${net.Scope}" instead of "swarm"`,
      );
    }
  }
  const existing = await client.ok<Named[]>("GET", `/networks?${stackFilter(o.namespace)}`);
  const names = new Set(existing.map((n) => n.Name));
  for (const n of o.networks) {
    if (names.has(n.name)) continue;
    io.out(`Creating network ${n.name}`);
    await client.ok("POST", "/networks/create", { Name: n.name, ...n.create });
  }
}

async function deployPayloads(
  client: StackClient,
  kind: "secret" | "config",
  specs: JsonObject[],
  io: DeployOutput,
): Promise<void> {
  for (const spec of specs) {
    const name = String(spec.Name);
    const found = await client.find<Named>(`/${kind}s/${encodeURIComponent(name)}`);
    if (found) {
      await client.ok("POST", `/${kind}s/${found.ID}/update?version=${found.Version?.Index ?? 0}`, spec);
    } else {
      io.out(`Creating ${kind} ${name}`);
      await client.ok("POST", `/${kind}s/create`, spec);
    }
  }
}

/** Fills SecretID / ConfigID in a spec's references by name, as docker's ParseSecrets does. */
async function resolveRefs(client: StackClient, spec: JsonObject): Promise<JsonObject> {
  const copy = structuredClone(spec);
  const container = ((copy.TaskTemplate as JsonObject).ContainerSpec ?? {}) as JsonObject;
  for (const kind of ["secret", "config"] as const) {
    const key = kind === "secret" ? "Secrets" : "Configs";
    const refs = container[key];
    if (!Array.isArray(refs)) continue;
    const all = await client.ok<Named[]>("GET", `/${kind}s`);
    const ids = new Map(all.map((x) => [x.Spec?.Name, x.ID]));
    for (const ref of refs as JsonObject[]) {
      const name = String(ref[kind === "secret" ? "SecretName" : "ConfigName"]);
      const id = ids.get(name);
      if (!id) throw new Error(`${kind} not found: ${name}`);
      ref[kind === "secret" ? "SecretID" : "ConfigID"] = id;
    }
  }
  return copy;
}

/** Sends every object of `o`; returns the full names of the services it created or updated. */
export async function deployObjects(
  client: StackClient,
  o: StackObjects,
  opts: DeployOptions,
): Promise<string[]> {
  const { io } = opts;
  await ensureManager(client);
  const wanted = new Set(o.services.map((s) => String(s.spec.Name)));
  let existing = await stackServices(client, o.namespace);
  if (opts.prune) {
    for (const s of existing.filter((x) => !wanted.has(x.Spec.Name))) {
      io.out(`Removing service ${s.Spec.Name}`);
      await client.ok("DELETE", `/services/${s.ID}`);
    }
    existing = existing.filter((x) => wanted.has(x.Spec.Name));
  }
  await deployNetworks(client, o, io);
  await deployPayloads(client, "secret", o.secrets, io);
  await deployPayloads(client, "config", o.configs, io);
  const byName = new Map<string, ServiceView>(existing.map((s) => [s.Spec.Name, s]));
  const deployed: string[] = [];
  for (const svc of dependencyOrder(o.services)) {
    const name = String(svc.spec.Name);
    const deps = svc.dependsOn.map((d) => `${o.namespace}_${d.service}`);
    if (deps.length > 0) {
      io.out(`Waiting for ${deps.join(", ")} before ${name} (depends_on)`);
      const late = await waitForServices(client, o.namespace, deps, { timeoutMs: opts.timeoutMs ?? 300_000 });
      if (late.length > 0) throw new Error(`service ${name}: dependencies not running: ${late.join(", ")}`);
    }
    const current = byName.get(name);
    const spec = await pinServiceImage(
      client,
      await resolveRefs(client, svc.spec),
      opts.resolveImage ?? "always",
      current,
      io.err,
    );
    if (current) {
      io.out(`Updating service ${name} (id: ${current.ID})`);
      (spec.TaskTemplate as JsonObject).ForceUpdate = current.Spec.TaskTemplate?.ForceUpdate ?? 0;
      const res = await client.ok<{ Warnings?: string[] | null }>(
        "POST",
        `/services/${current.ID}/update?version=${current.Version.Index}`,
        spec,
      );
      for (const w of res?.Warnings ?? []) io.err(w);
    } else {
      io.out(`Creating service ${name}`);
      const res = await client.ok<{ Warnings?: string[] | null }>("POST", "/services/create", spec);
      for (const w of res?.Warnings ?? []) io.err(w);
    }
    deployed.push(name);
  }
  return deployed;
}

/** Waits for the stack when asked; throws naming the services that did not converge. */
export async function waitIfAsked(
  client: StackClient,
  o: StackObjects,
  names: string[],
  opts: DeployOptions,
): Promise<void> {
  if (!opts.wait) return;
  const timeoutMs = opts.timeoutMs ?? 300_000;
  opts.io.out(`Waiting up to ${Math.round(timeoutMs / 1000)}s for ${names.length} services to converge`);
  const late = await waitForServices(client, o.namespace, names, {
    timeoutMs,
    progress: (l) => opts.io.out(`  ${l}`),
  });
  if (late.length > 0) throw new Error(`stack ${o.namespace}: not converged: ${late.join(", ")}`);
  opts.io.out(`Stack ${o.namespace}: every service converged`);
}

/** `shoal stack deploy -c f.yml [-c g.yml] [--prune] [--wait] NAME`. */
export async function stackDeploy(
  socket: string,
  files: string[],
  namespace: string,
  opts: DeployOptions,
): Promise<number> {
  const { objects, warnings } = loadStackFiles(files, namespace, opts.env);
  for (const w of warnings) opts.io.err(`${w}\n`);
  const client = new StackClient(socket);
  const names = await deployObjects(client, objects, opts);
  const { Index } = await client.ok<{ Index: number }>("POST", `/shoal/v1/stacks/${namespace}/revisions`, {
    Kind: "deploy",
    Files: files,
    Objects: objects,
  });
  opts.io.out(`Recorded revision ${Index} of stack ${namespace}`);
  await waitIfAsked(client, objects, names, opts);
  return Index;
}
