/**
 * Pins a stack service's image to the digest the registry has for it, as `docker stack deploy
 * --resolve-image` does: every node then runs the same image, even if the tag moves meanwhile.
 * The lookup is the daemon's distribution inspect (dockerd asks the registry); an image no registry
 * knows keeps its plain reference, with the docker CLI's warning.
 */
import { IMAGE_LABEL, type JsonObject } from "../stack/index.ts";
import type { StackClient } from "./stack-client.ts";

/** `always`: every deploy; `changed`: when the compose file names another image; `never`. */
export type ResolveImage = "always" | "changed" | "never";
export const RESOLVE_IMAGE_MODES: readonly ResolveImage[] = ["always", "changed", "never"];

/** The docker CLI's text (client/service_create.go digestWarning). */
export const digestWarning = (image: string): string =>
  `image ${image} could not be accessed on a registry to record\nits digest. Each node will access ${image} independently,\npossibly leading to different nodes running different\nversions of the image.\n`;

/** `name[:tag]@digest`; a reference without a tag gets `latest`, as Swarm shows it. */
export function withDigest(image: string, digest: string): string {
  const lastPart = image.slice(image.lastIndexOf("/") + 1);
  const tagged = lastPart.includes(":") ? image : `${image}:latest`;
  return `${tagged}@${digest}`;
}

interface CurrentService {
  Spec: { Labels?: Record<string, string>; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
}

/**
 * The image the service spec is sent with: pinned when `mode` asks for a lookup and the registry
 * answers; the current service's pinned image when the compose image did not change and no lookup
 * is made (so that an unchanged service is not updated for its digest); else the plain reference.
 */
export async function resolveStackImage(
  client: StackClient,
  image: string,
  mode: ResolveImage,
  current: CurrentService | undefined,
  warn: (text: string) => void,
): Promise<string> {
  if (!image || image.includes("@")) return image;
  const unchanged = current?.Spec.Labels?.[IMAGE_LABEL] === image;
  const lookup = mode === "always" || (mode === "changed" && !unchanged);
  if (!lookup) return unchanged ? (current?.Spec.TaskTemplate?.ContainerSpec?.Image ?? image) : image;
  const res = await client.call("GET", `/distribution/${image}/json`).catch(() => undefined);
  const digest = (res?.body as { Descriptor?: { digest?: string } } | undefined)?.Descriptor?.digest;
  if (res?.status !== 200 || !digest) {
    warn(digestWarning(image));
    return image;
  }
  return withDigest(image, digest);
}

/** Sets the image `resolveStackImage` chose into a service spec (changed in place, returned). */
export async function pinServiceImage(
  client: StackClient,
  spec: JsonObject,
  mode: ResolveImage,
  current: CurrentService | undefined,
  warn: (text: string) => void,
): Promise<JsonObject> {
  const container = (spec.TaskTemplate as JsonObject | undefined)?.ContainerSpec as JsonObject | undefined;
  const image = typeof container?.Image === "string" ? container.Image : "";
  if (!container || !image) return spec;
  container.Image = await resolveStackImage(client, image, mode, current, warn);
  return spec;
}
