/**
 * Task → dockerd HostConfig, after moby `daemon/cluster/executor/container/container.go`
 * (`hostConfig`, `resources`, `convertMount`, `applyPrivileges`).
 */
import type { EndpointPortConfig, HostConfig, Mount, Task } from "../../api/index.ts";
import type { ContainerSpec, NetworkEndpoint } from "./spec.ts";

/** The "container name → host config" part of the create request. */
export function hostConfig(
  task: Task,
  spec: ContainerSpec,
  ports: EndpointPortConfig[],
  networks: NetworkEndpoint[],
): HostConfig {
  const hc: HostConfig = {
    ...resources(task, spec),
    // The orchestrator restarts tasks, never dockerd: a Swarm container has no restart policy.
    RestartPolicy: { Name: "no" },
    NetworkMode: networks[0]?.name ?? "bridge",
  };
  if (spec.Groups?.length) hc.GroupAdd = [...spec.Groups];
  const bindings = portBindings(ports);
  if (bindings) hc.PortBindings = bindings;
  if (spec.Mounts?.length) hc.Mounts = spec.Mounts.map(convertMount);
  if (spec.ReadOnly) hc.ReadonlyRootfs = true;
  if (spec.Isolation) hc.Isolation = spec.Isolation;
  if (spec.Init !== undefined && spec.Init !== null) hc.Init = spec.Init;
  if (spec.Sysctls && Object.keys(spec.Sysctls).length) hc.Sysctls = { ...spec.Sysctls };
  if (spec.CapabilityAdd?.length) hc.CapAdd = [...spec.CapabilityAdd];
  if (spec.CapabilityDrop?.length) hc.CapDrop = [...spec.CapabilityDrop];
  if (spec.OomScoreAdj) hc.OomScoreAdj = spec.OomScoreAdj;
  const dns = spec.DNSConfig;
  if (dns?.Nameservers?.length) hc.Dns = [...dns.Nameservers];
  if (dns?.Search?.length) hc.DnsSearch = [...dns.Search];
  if (dns?.Options?.length) hc.DnsOptions = [...dns.Options];
  const security = securityOpts(spec);
  if (security.length) hc.SecurityOpt = security;
  const hosts = extraHosts(spec.Hosts ?? []);
  if (hosts.length) hc.ExtraHosts = hosts;
  const log = task.Spec?.LogDriver;
  if (log?.Name) {
    hc.LogConfig = {
      Type: log.Name as NonNullable<HostConfig["LogConfig"]>["Type"],
      Config: { ...log.Options },
    };
  }
  return hc;
}

/** Limits and ulimits; reservations only set the soft memory limit. */
function resources(task: Task, spec: ContainerSpec): HostConfig {
  const out: HostConfig = {};
  if (spec.Ulimits?.length) {
    out.Ulimits = spec.Ulimits.map((u) => ({ Name: u.Name, Soft: u.Soft, Hard: u.Hard }));
  }
  const limits = task.Spec?.Resources?.Limits;
  if (limits?.MemoryBytes && limits.MemoryBytes > 0) out.Memory = limits.MemoryBytes;
  if (limits?.NanoCPUs && limits.NanoCPUs > 0) out.NanoCpus = limits.NanoCPUs;
  if (limits?.Pids && limits.Pids > 0) out.PidsLimit = limits.Pids;
  // moby leaves reservations to the scheduler; shoal also hands the memory reservation to the
  // kernel as a soft limit, which only matters under memory pressure.
  const reserved = task.Spec?.Resources?.Reservations?.MemoryBytes;
  if (reserved && reserved > 0) out.MemoryReservation = reserved;
  return out;
}

/** Swarm's `IP host [aliases…]` (hosts(5)) → dockerd's `host:IP`; aliases are dropped as in moby. */
export function extraHosts(entries: string[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const parts = entry.trim().split(/\s+/);
    if (parts.length > 1) out.push(`${parts[1]}:${parts[0]}`);
  }
  return out;
}

/** Host-mode published ports; ingress ports are the routing mesh's business. */
function portBindings(ports: EndpointPortConfig[]): HostConfig["PortBindings"] | undefined {
  const host = ports.filter((p) => p.PublishMode === "host" && p.TargetPort && p.TargetPort <= 65535);
  if (!host.length) return undefined;
  const out: NonNullable<HostConfig["PortBindings"]> = {};
  for (const p of host) {
    out[`${p.TargetPort}/${p.Protocol ?? "tcp"}`] = [
      p.PublishedPort ? { HostPort: String(p.PublishedPort) } : {},
    ];
  }
  return out;
}

/** Exposed ports for the create request's Config (same filter as the bindings). */
export function exposedPorts(ports: EndpointPortConfig[]): Record<string, Record<string, never>> | undefined {
  const keys = Object.keys(portBindings(ports) ?? {});
  if (!keys.length) return undefined;
  return Object.fromEntries(keys.map((k) => [k, {}]));
}

export function convertMount(m: Mount): Mount {
  const out: Mount = { Type: m.Type, Source: m.Source ?? "", Target: m.Target ?? "" };
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (m.BindOptions) out.BindOptions = { ...m.BindOptions };
  if (m.VolumeOptions) {
    const vo = m.VolumeOptions;
    out.VolumeOptions = { NoCopy: vo.NoCopy };
    if (vo.Labels) out.VolumeOptions.Labels = { ...vo.Labels };
    if (vo.DriverConfig) {
      out.VolumeOptions.DriverConfig = { Name: vo.DriverConfig.Name };
      if (vo.DriverConfig.Options) out.VolumeOptions.DriverConfig.Options = { ...vo.DriverConfig.Options };
    }
  }
  if (m.TmpfsOptions) out.TmpfsOptions = { ...m.TmpfsOptions };
  return out;
}

/** Privileges → SecurityOpt strings, in moby's order. */
export function securityOpts(spec: ContainerSpec): string[] {
  const p = spec.Privileges;
  if (!p) return [];
  const out: string[] = [];
  const cred = p.CredentialSpec;
  if (cred?.File) out.push(`credentialspec=file://${cred.File}`);
  else if (cred?.Registry) out.push(`credentialspec=registry://${cred.Registry}`);
  else if (cred?.Config) out.push(`credentialspec=config://${cred.Config}`);
  const se = p.SELinuxContext;
  if (se?.Disable) out.push("label=disable");
  if (se?.User) out.push(`label=user:${se.User}`);
  if (se?.Role) out.push(`label=role:${se.Role}`);
  if (se?.Level) out.push(`label=level:${se.Level}`);
  if (se?.Type) out.push(`label=type:${se.Type}`);
  if (p.Seccomp?.Mode === "unconfined") out.push("seccomp=unconfined");
  if (p.Seccomp?.Mode === "custom" && p.Seccomp.Profile) out.push(`seccomp=${p.Seccomp.Profile}`);
  if (p.AppArmor?.Mode === "disabled") out.push("apparmor=unconfined");
  if (p.NoNewPrivileges) out.push("no-new-privileges=true");
  return out;
}
