/**
 * Whether an image reference parses as the distribution/reference grammar does for
 * `ParseNormalizedNamed`: `[domain[:port]/]path[:tag][@algo:hex]`, path components lowercase.
 * Only the verdict matters here (SwarmKit turns any failure into one message).
 */

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** True when the first path element names a registry rather than a repository component. */
function looksLikeDomain(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase();
}

export function isValidImageReference(ref: string): boolean {
  let rest = ref;
  const at = rest.indexOf("@");
  if (at >= 0) {
    if (!DIGEST_RE.test(rest.slice(at + 1))) return false;
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    if (!TAG_RE.test(rest.slice(colon + 1))) return false;
    rest = rest.slice(0, colon);
  }
  if (rest.length === 0 || rest.length > NAME_MAX) return false;
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  if (parts.length > 1 && looksLikeDomain(first)) {
    if (!DOMAIN_RE.test(first)) return false;
    return PATH.test(parts.slice(1).join("/"));
  }
  // A bare 64-hex name is refused as ambiguous with an image ID.
  if (parts.length === 1 && HEX64.test(rest)) return false;
  return PATH.test(rest);
}
