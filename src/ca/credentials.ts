/**
 * A node's credentials on disk, where SwarmKit keeps them: <dir>/certificates/swarm-node.crt (the
 * node certificate chain), swarm-node.key (mode 0600) and swarm-root-ca.crt (the trust root). Files
 * are written to a temporary name and renamed, so a crash never leaves half a key.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface NodeCredentials {
  /** The node certificate, then any intermediates (PEM). */
  certPem: string;
  /** PKCS#8 PEM. Never logged. */
  keyPem: string;
  /** The cluster's trust root (PEM). */
  rootCAPem: string;
  /**
   * During a root rotation, the new root: trusted as well, so peers already holding certificates
   * from it are accepted either way. Not saved: the node learns it again from a manager.
   */
  nextRootCAPem?: string;
}

/** Every root the node trusts, as one PEM bundle (the `ca` of its TLS contexts). */
export function trustedRoots(creds: Pick<NodeCredentials, "rootCAPem" | "nextRootCAPem">): string {
  const withNl = (pem: string) => (pem.endsWith("\n") ? pem : `${pem}\n`);
  return creds.nextRootCAPem ? withNl(creds.rootCAPem) + withNl(creds.nextRootCAPem) : creds.rootCAPem;
}

export const CERTIFICATES_DIR = "certificates";
export const NODE_CERT_FILE = "swarm-node.crt";
export const NODE_KEY_FILE = "swarm-node.key";
export const ROOT_CA_FILE = "swarm-root-ca.crt";

export function credentialPaths(dir: string): { cert: string; key: string; rootCA: string } {
  const base = join(dir, CERTIFICATES_DIR);
  return {
    cert: join(base, NODE_CERT_FILE),
    key: join(base, NODE_KEY_FILE),
    rootCA: join(base, ROOT_CA_FILE),
  };
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** Writes all three files; the root first, the key before the certificate that names it. */
export async function saveNodeCredentials(dir: string, creds: NodeCredentials): Promise<void> {
  const paths = credentialPaths(dir);
  await mkdir(join(dir, CERTIFICATES_DIR), { recursive: true, mode: 0o700 });
  await writeAtomic(paths.rootCA, creds.rootCAPem, 0o644);
  await writeAtomic(paths.key, creds.keyPem, 0o600);
  await writeAtomic(paths.cert, creds.certPem, 0o644);
}

/** The saved credentials, or undefined when this node has none (never joined, or left). */
export async function loadNodeCredentials(dir: string): Promise<NodeCredentials | undefined> {
  const paths = credentialPaths(dir);
  try {
    const [certPem, keyPem, rootCAPem] = await Promise.all([
      readFile(paths.cert, "utf8"),
      readFile(paths.key, "utf8"),
      readFile(paths.rootCA, "utf8"),
    ]);
    return { certPem, keyPem, rootCAPem };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
