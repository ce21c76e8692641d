/**
 * Encryption at rest for stored values: AES-256-GCM with the cluster's 32-byte data key.
 *
 * Sealed format, version 1: `0x01 | nonce (12 bytes, random) | ciphertext | tag (16 bytes)`. The
 * leading byte names the format so it can change later (another cipher, a key ID for rotation).
 * The associated data (the etcd key) binds a value to where it is stored, so a value copied under
 * another key does not open.
 *
 * Where the data key lives is a seam: `DataKeyStore`. `FileDataKeyStore` keeps it in plain form
 * (mode 0600); with autolock the daemon keeps it sealed by the unlock key (`sealDataKey`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { failedPrecondition, internal } from "../base/index.ts";

export const DATA_KEY_BYTES = 32;
const FORMAT_V1 = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens values with one data key. */
export class DataCipher {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== DATA_KEY_BYTES)
      throw internal(`data key must be ${DATA_KEY_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  seal(plaintext: Uint8Array, associatedData?: Uint8Array): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    if (associatedData) cipher.setAAD(associatedData);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), nonce, body, cipher.getAuthTag()]);
  }

  open(sealed: Uint8Array, associatedData?: Uint8Array): Buffer {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf[0] !== FORMAT_V1) throw internal(`unknown sealed value format ${buf[0]}`);
    if (buf.length < 1 + NONCE_BYTES + TAG_BYTES) throw internal("sealed value is truncated");
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
    if (associatedData) decipher.setAAD(associatedData);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw internal("cannot decrypt stored value (wrong data key or corrupted data)", err);
    }
  }
}

/** Binds a sealed data key to its purpose, so no other sealed value can pass for one. */
const DATA_KEY_AAD = Buffer.from("shoal data key");

/** The data key sealed by a key-encryption key (autolock): never 32 bytes long, unlike a plain key. */
export function sealDataKey(key: Uint8Array, kek: Uint8Array): Buffer {
  return new DataCipher(kek).seal(key, DATA_KEY_AAD);
}

/** The data key in a sealed file, or undefined when this KEK does not open it. */
export function openDataKey(sealed: Uint8Array, kek: Uint8Array): Buffer | undefined {
  if (kek.length !== DATA_KEY_BYTES) return undefined;
  try {
    const key = new DataCipher(kek).open(sealed, DATA_KEY_AAD);
    return key.length === DATA_KEY_BYTES ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Where the cluster's data key is kept between restarts. */
export interface DataKeyStore {
  /** The stored key, or undefined if none was saved yet. */
  load(): Promise<Buffer | undefined>;
  save(key: Buffer): Promise<void>;
}

/** Keeps the data key in `<dir>/data.key`, readable by the owner only. */
export class FileDataKeyStore implements DataKeyStore {
  readonly path: string;

  constructor(private readonly dir: string) {
    this.path = join(dir, "data.key");
  }

  async load(): Promise<Buffer | undefined> {
    let key: Buffer;
    try {
      key = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    if (key.length !== DATA_KEY_BYTES)
      throw failedPrecondition(`${this.path} is not a ${DATA_KEY_BYTES}-byte key`);
    return key;
  }

  async save(key: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, key, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }
}

/** Loads the data key, creating (and saving) a random one the first time. */
export async function loadOrCreateDataKey(
  keys: DataKeyStore | string,
  random: (n: number) => Buffer = randomBytes,
): Promise<Buffer> {
  const store = typeof keys === "string" ? new FileDataKeyStore(keys) : keys;
  const existing = await store.load();
  if (existing) return existing;
  const key = random(DATA_KEY_BYTES);
  await store.save(key);
  return key;
}
