/**
 * The compose model as the loader leaves it (plain JSON after YAML parsing, interpolation,
 * normalisation and merging) and the stack objects `docker stack deploy` would send.
 */

/** Any JSON value. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One compose file as given: its name (for messages and relative paths) and its text. */
export interface ComposeSource {
  name: string;
  text: string;
}

export interface LoadOptions {
  /** Variables for `${VAR}` interpolation and for `environment: [VAR]` without a value. */
  env: Readonly<Record<string, string | undefined>>;
  /** Relative `env_file`, `file:` and bind sources resolve against this directory. */
  workingDir: string;
  /** Reads `env_file` and secret/config files (absolute paths); injected to keep this layer pure. */
  readFile: (path: string) => Buffer;
}

/** Everything one deploy creates or references, in the Engine API's JSON shapes. */
export interface StackObjects {
  namespace: string;
  /** Networks to create when absent: name → NetworkCreateRequest body (without Name). */
  networks: Array<{ name: string; create: JsonObject }>;
  /** Networks declared `external`: they must exist with swarm scope. */
  externalNetworks: string[];
  secrets: JsonObject[];
  configs: JsonObject[];
  /** One per service, sorted by name; `dependsOn` is shoal's ordering (short names). */
  services: StackService[];
}

export interface StackService {
  /** The compose key (short name). */
  name: string;
  spec: JsonObject;
  dependsOn: Array<{ service: string; condition: DependsCondition }>;
}

export type DependsCondition = "service_started" | "service_healthy" | "service_completed_successfully";

/** The result of loading files: the merged model and the warnings the docker CLI prints. */
export interface LoadedCompose {
  model: JsonObject;
  /** "Ignoring unsupported options: ..." and "Ignoring deprecated options: ..." texts. */
  warnings: string[];
}

export const NAMESPACE_LABEL = "com.docker.stack.namespace";
export const IMAGE_LABEL = "com.docker.stack.image";

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
