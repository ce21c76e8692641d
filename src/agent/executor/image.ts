/**
 * Image references as moby's executor uses them: the familiar form with a tag added when there is
 * neither tag nor digest (`reference.FamiliarString(reference.TagNameOnly(ref))`), so `busybox`
 * becomes `busybox:latest` and `docker.io/library/nginx:1` becomes `nginx:1`.
 */

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** True for a bare image ID (`sha256:…`), which is never pulled. */
export function isImageId(ref: string): boolean {
  return DIGEST.test(ref);
}

/** True when the reference pins a digest (`name@sha256:…`). */
export function isCanonical(ref: string): boolean {
  return ref.includes("@");
}

/** Splits `name[:tag][@digest]`; a `:` before the last `/` belongs to a registry host:port. */
function split(ref: string): { name: string; tag: string; digest: string } {
  let rest = ref;
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = "";
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

function familiarName(name: string): string {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const hasDomain = first.includes(".") || first.includes(":") || first === "localhost";
  const isHub = !hasDomain || ["docker.io", "index.docker.io", "registry-1.docker.io"].includes(first);
  if (!isHub) return name;
  const path = hasDomain ? name.slice(slash + 1) : name;
  return path.startsWith("library/") && path.split("/").length === 2 ? path.slice(8) : path;
}

/** The reference as moby hands it to dockerd: familiar name, `:latest` when unpinned and untagged. */
export function normalizeImage(ref: string): string {
  if (ref === "" || isImageId(ref)) return ref;
  const { name, tag, digest } = split(ref);
  const fam = familiarName(name);
  if (digest) return tag ? `${fam}:${tag}@${digest}` : `${fam}@${digest}`;
  return `${fam}:${tag || "latest"}`;
}
