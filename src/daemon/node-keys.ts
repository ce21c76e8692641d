/**
 * What autolock protects on a manager's disk: its TLS private key (certificates/swarm-node.key) and
 * the store's data key (keys/data.key). Without a key-encryption key (KEK) both are plain, mode
 * 0600; with one, both are wrapped by it, and a restarted manager stays locked until `swarm unlock`
 * gives the KEK back. Every write of either key goes through one NodeKeys, one at a time.
 *
 * A change of KEK rewrites both keys: each is first written next to itself as `.pending`, then the
 * two are renamed into place. A crash in between leaves every key readable with the new KEK (in the
 * file or its pending copy), so the key `unlock-key --rotate` printed always unlocks.
 *
 * etcd reads its peer certificate and key from files on every handshake and cannot decrypt: while a
 * manager runs, a plain copy of the pair lives in memory-backed storage (/dev/shm), never on disk.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { failedPrecondition } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import {
  credentialPaths,
  formatUnlockKey,
  isWrappedPrivateKey,
  loadNodeCredentials,
  saveNodeCredentials,
  unwrapPrivateKey,
  wrapPrivateKey,
} from "../ca/index.ts";
import type { DataKeyStore } from "../store/index.ts";
import { DATA_KEY_BYTES, openDataKey, sealDataKey } from "../store/index.ts";

/** A memory-backed directory of its own per data dir, for the plain copies a running manager needs. */
export function liveDirOf(dataDir: string): string {
  const tag = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
  return join("/dev/shm", `shoal-${tag}`);
}

/** The two keys in plain form; either may be missing (a worker has no data key). */
interface PlainKeys {
  tlsKey?: string;
  dataKey?: Buffer;
}

/** The live TLS pair etcd reads. */
export interface LiveTlsFiles {
  certFile: string;
  keyFile: string;
}

const PENDING = ".pending";

async function readMaybe(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  await writeFile(`${path}.tmp`, data, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

const isWrappedDataKey = (buf: Buffer): boolean => buf.length !== DATA_KEY_BYTES;

/** A TLS key file's plain PEM: as is when plain, unwrapped when this KEK opens it. */
function openTlsKey(file: Buffer, kek: Buffer | undefined): string | undefined {
  const pem = file.toString("utf8");
  if (!isWrappedPrivateKey(pem)) return pem;
  return kek ? unwrapPrivateKey(pem, kek) : undefined;
}

function openData(file: Buffer, kek: Buffer | undefined): Buffer | undefined {
  if (!isWrappedDataKey(file)) return file;
  return kek ? openDataKey(file, kek) : undefined;
}

export class NodeKeys {
  private kek: Buffer | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private live: LiveTlsFiles | undefined;
  private readonly tlsKeyPath: string;
  private readonly dataKeyPath: string;

  constructor(
    private readonly swarmDir: string,
    private readonly liveDir: string,
  ) {
    this.tlsKeyPath = credentialPaths(swarmDir).key;
    this.dataKeyPath = join(swarmDir, "keys", "data.key");
  }

  /** The unlock key this node holds, or undefined when its keys are plain. */
  unlockKey(): string | undefined {
    return this.kek ? formatUnlockKey(this.kek) : undefined;
  }

  /** Whether a key on disk is wrapped and this process holds no KEK to open it: a locked node. */
  async isLocked(): Promise<boolean> {
    if (this.kek) return false;
    const [tls, data] = await Promise.all([readMaybe(this.tlsKeyPath), readMaybe(this.dataKeyPath)]);
    return (
      (tls !== undefined && isWrappedPrivateKey(tls.toString("utf8"))) ||
      (data !== undefined && isWrappedDataKey(data))
    );
  }

  /**
   * Keeps `kek` if it opens every key on disk (finishing a rewrap a crash interrupted); false if
   * it does not.
   */
  unlock(kek: Buffer): Promise<boolean> {
    return this.serial(async () => {
      const plain = await this.readPlain(kek);
      if (!plain) return false;
      await this.writePlain(plain, kek);
      this.kek = kek;
      return true;
    });
  }

  /** Rewraps both keys under a new KEK, or stores them plain again (undefined). */
  setKek(kek: Buffer | undefined): Promise<void> {
    return this.serial(async () => {
      const plain = await this.readPlain(this.kek);
      if (!plain) throw failedPrecondition("this node's keys do not open with its unlock key");
      await this.writePlain(plain, kek);
      this.kek = kek;
    });
  }

  /** Forgets the KEK (the node left the swarm; its files are gone). */
  forget(): void {
    this.kek = undefined;
  }

  /** The node's credentials with the plain key, or undefined when it has none. */
  async credentials(): Promise<NodeCredentials | undefined> {
    const creds = await loadNodeCredentials(this.swarmDir);
    if (!creds) return undefined;
    const keyPem = openTlsKey(Buffer.from(creds.keyPem), this.kek);
    if (keyPem === undefined) throw failedPrecondition("this node's TLS key is locked (autolock)");
    return { ...creds, keyPem };
  }

  /** Saves new credentials (renewal, join): the key wrapped when a KEK is set; the live pair too. */
  saveCredentials(creds: NodeCredentials): Promise<void> {
    return this.serial(async () => {
      const keyPem = this.kek ? wrapPrivateKey(creds.keyPem, this.kek) : creds.keyPem;
      if (this.live) await this.writeLive(creds);
      await saveNodeCredentials(this.swarmDir, { ...creds, keyPem });
    });
  }

  /** The data key's store for the manager runtime, following the KEK. */
  dataKeys(): DataKeyStore {
    return {
      load: async () => {
        const file = await readMaybe(this.dataKeyPath);
        if (!file) return undefined;
        const key = openData(file, this.kek);
        if (!key) throw failedPrecondition("the store's data key is locked (autolock)");
        return key;
      },
      save: (key) =>
        this.serial(async () => {
          await mkdir(join(this.swarmDir, "keys"), { recursive: true, mode: 0o700 });
          await writeAtomic(this.dataKeyPath, this.kek ? sealDataKey(key, this.kek) : key);
        }),
    };
  }

  /** A worker holds no data key. */
  dropDataKey(): Promise<void> {
    return this.serial(() => rm(this.dataKeyPath, { force: true }));
  }

  /** Writes the plain TLS pair for etcd into memory-backed storage; kept current until closeLive. */
  openLive(creds: NodeCredentials): Promise<LiveTlsFiles> {
    return this.serial(async () => {
      await mkdir(this.liveDir, { recursive: true, mode: 0o700 });
      const files = { certFile: join(this.liveDir, "node.crt"), keyFile: join(this.liveDir, "node.key") };
      this.live = files;
      await this.writeLive(creds);
      return files;
    });
  }

  /** Removes the plain copies (manager stopped, or left over by a killed daemon). */
  closeLive(): Promise<void> {
    return this.serial(async () => {
      this.live = undefined;
      await rm(this.liveDir, { recursive: true, force: true });
    });
  }

  private async writeLive(creds: NodeCredentials): Promise<void> {
    if (!this.live) return;
    // The key before the certificate that names it, as on disk.
    await writeAtomic(this.live.keyFile, creds.keyPem);
    await writeAtomic(this.live.certFile, creds.certPem);
  }

  /** Both keys in plain form, each from its file or its pending copy; undefined if one stays shut. */
  private async readPlain(kek: Buffer | undefined): Promise<PlainKeys | undefined> {
    const tlsKey = await this.openEither(this.tlsKeyPath, (f) => openTlsKey(f, kek));
    const dataKey = await this.openEither(this.dataKeyPath, (f) => openData(f, kek));
    if (tlsKey === null || dataKey === null) return undefined;
    return { ...(tlsKey ? { tlsKey } : {}), ...(dataKey ? { dataKey } : {}) };
  }

  /** The opened file or pending copy; undefined when neither exists, null when neither opens. */
  private async openEither<T>(
    path: string,
    open: (file: Buffer) => T | undefined,
  ): Promise<T | null | undefined> {
    let found = false;
    for (const candidate of [path, `${path}${PENDING}`]) {
      const file = await readMaybe(candidate);
      if (!file) continue;
      found = true;
      const plain = open(file);
      if (plain !== undefined) return plain;
    }
    return found ? null : undefined;
  }

  private async writePlain(plain: PlainKeys, kek: Buffer | undefined): Promise<void> {
    const writes: Array<[string, string | Buffer]> = [];
    if (plain.dataKey) writes.push([this.dataKeyPath, kek ? sealDataKey(plain.dataKey, kek) : plain.dataKey]);
    if (plain.tlsKey) writes.push([this.tlsKeyPath, kek ? wrapPrivateKey(plain.tlsKey, kek) : plain.tlsKey]);
    for (const [path, data] of writes) await writeAtomic(`${path}${PENDING}`, data);
    for (const [path] of writes) await rename(`${path}${PENDING}`, path);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
