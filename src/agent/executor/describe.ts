/**
 * dockerd `/info` (+ managed plugins) → the node's NodeDescription, as moby's executor `Describe`
 * builds it: hostname, platform, CPUs and memory, engine version, engine labels and plugins.
 */
import type { NodeDescription } from "../../api/index.ts";
import { arr, num, rec, str, strings } from "./narrow.ts";

type PluginRef = { Type: string; Name: string };

/** Managed (v2) plugin capabilities → the plugin types Swarm's scheduler filters on. */
const CAPABILITY: Record<string, string> = {
  volumedriver: "Volume",
  networkdriver: "Network",
  logdriver: "Log",
};

function managedPlugins(list: unknown[]): PluginRef[] {
  const out: PluginRef[] = [];
  for (const raw of list) {
    const p = rec(raw);
    if (p.Enabled !== true) continue;
    for (const t of arr(rec(rec(p.Config).Interface).Types)) {
      const type = rec(t);
      if (str(type.Prefix) !== "docker") continue;
      const cap = str(type.Capability);
      out.push({ Type: CAPABILITY[cap] ?? cap, Name: str(p.Name) });
    }
  }
  return out;
}

/** Pure: the NodeDescription for an `/info` body and a `/plugins` list. */
export function describeFromInfo(infoRaw: unknown, pluginList: unknown[] = []): NodeDescription {
  const info = rec(infoRaw);
  const v1 = rec(info.Plugins);
  const refs: PluginRef[] = [
    ...strings(v1.Volume).map((Name) => ({ Type: "Volume", Name })),
    // "overlay", the built-in multi-host driver, is always offered (as moby does)
    ...["overlay", ...strings(v1.Network)].map((Name) => ({ Type: "Network", Name })),
    ...strings(v1.Authorization).map((Name) => ({ Type: "Authorization", Name })),
    ...strings(v1.Log).map((Name) => ({ Type: "Log", Name })),
    ...managedPlugins(pluginList),
  ];
  const unique = new Map(refs.map((p) => [`${p.Type}\u0000${p.Name}`, p]));
  const plugins = [...unique.values()].sort((a, b) =>
    a.Type !== b.Type ? (a.Type < b.Type ? -1 : 1) : a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0,
  );
  const labels: Record<string, string> = {};
  for (const l of strings(info.Labels)) {
    const eq = l.indexOf("=");
    if (eq > 0) labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return {
    Hostname: str(info.Name),
    Platform: { Architecture: str(info.Architecture), OS: str(info.OSType) },
    Resources: { NanoCPUs: num(info.NCPU) * 1e9, MemoryBytes: num(info.MemTotal) },
    Engine: { EngineVersion: str(info.ServerVersion), Labels: labels, Plugins: plugins },
  };
}
