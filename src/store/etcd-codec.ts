/**
 * How objects are laid out in etcd: key `<prefix><table>/<id>`, value = the object's JSON without
 * `Version`, sealed with the data key (the key is the associated data). `Version.Index` is not
 * stored: on read it is the kv's mod revision, which is what makes it the store revision of the
 * object's last write.
 */
import type { IKeyValue } from "etcd3";
import type { DataCipher } from "./encryption.ts";
import type { StoredObject, TableName } from "./types.ts";
import { TABLE_NAMES } from "./types.ts";

export interface DecodedKv {
  table: TableName;
  id: string;
  /** Undefined for a deletion. */
  object: StoredObject | undefined;
  modRevision: number;
}

export class EtcdCodec {
  private readonly tables = new Set<string>(TABLE_NAMES);

  constructor(
    readonly prefix: string,
    private readonly cipher: DataCipher,
  ) {}

  key(table: TableName, id: string): Buffer {
    return Buffer.from(`${this.prefix}${table}/${id}`);
  }

  encode(table: TableName, obj: StoredObject): Buffer {
    const { Version: _version, ...rest } = obj;
    return this.cipher.seal(Buffer.from(JSON.stringify(rest)), this.key(table, obj.ID));
  }

  /** Splits a key into table and ID; undefined for keys that are not shoal objects. */
  parseKey(key: Buffer | string): { table: TableName; id: string } | undefined {
    const s = key.toString();
    if (!s.startsWith(this.prefix)) return undefined;
    const rest = s.slice(this.prefix.length);
    const slash = rest.indexOf("/");
    const table = rest.slice(0, slash);
    if (slash < 0 || !this.tables.has(table)) return undefined;
    return { table: table as TableName, id: rest.slice(slash + 1) };
  }

  /** Decodes a kv; a kv without value (a deletion event's kv) gives `object: undefined`. */
  decode(kv: IKeyValue, deleted = false): DecodedKv | undefined {
    const where = this.parseKey(kv.key);
    if (!where) return undefined;
    const modRevision = Number(kv.mod_revision);
    if (deleted) return { ...where, object: undefined, modRevision };
    const plain = this.cipher.open(kv.value, kv.key);
    const object = JSON.parse(plain.toString()) as StoredObject;
    object.Version = { Index: modRevision };
    return { ...where, object, modRevision };
  }
}

/** The range end that selects every key with the given prefix. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.of(0);
}
