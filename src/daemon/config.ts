import { isAbsolute } from "node:path";
import type { LogLevel } from "../base/index.ts";
import { invalidArgument } from "../base/index.ts";

/** `shoal daemon` settings; every field has a default and validateDaemonConfig names a bad one. */
export interface DaemonConfig {
  dataDir: string;
  engineSocket: string;
  /** Optional TCP address for the Engine API (host:port). */
  engineTcp?: string;
  /** The local dockerd: a unix socket path. */
  docker: string;
  advertiseAddr?: string;
  listenAddr: string;
  logLevel: LogLevel;
}

export function defaultDaemonConfig(): DaemonConfig {
  return {
    dataDir: "/var/lib/shoal",
    engineSocket: "/run/shoal/docker.sock",
    docker: "/var/run/docker.sock",
    listenAddr: "0.0.0.0:2377",
    logLevel: "info",
  };
}

export function validateDaemonConfig(config: DaemonConfig): DaemonConfig {
  const docker = config.docker.replace(/^unix:\/\//, "");
  if (!isAbsolute(config.dataDir))
    throw invalidArgument(`--data-dir must be an absolute path, got "${config.dataDir}"`);
  if (!isAbsolute(config.engineSocket)) {
    throw invalidArgument(`--engine-socket must be an absolute path, got "${config.engineSocket}"`);
  }
  if (!isAbsolute(docker))
    throw invalidArgument(`--docker must be a unix socket path (unix:///path), got "${config.docker}"`);
  if (config.engineTcp && !/^[^:]*:\d+$/.test(config.engineTcp)) {
    throw invalidArgument(`--engine-tcp must be host:port, got "${config.engineTcp}"`);
  }
  if (!["debug", "info", "warn", "error", "silent"].includes(config.logLevel)) {
    throw invalidArgument(`--log-level must be debug, info, warn or error, got "${config.logLevel}"`);
  }
  return { ...config, docker };
}
