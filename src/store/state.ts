/**
 * The in-memory object state both backends keep: one map per table plus the secondary indexes of
 * INDEXES. It holds the store's own copies; callers only ever see clones (see `cloneObject`).
 * Invariant: every object here carries `Version.Index` = the revision of its last write.
 */
import {
  INDEXES,
  type IndexedTable,
  type ReadTx,
  type StoredObject,
  TABLE_NAMES,
  type TableName,
  type Tables,
} from "./types.ts";

type AnyIndexFn = (obj: never) => string | undefined;

/**
 * A deep copy, so objects handed out never alias the store's state. Stored objects are JSON data
 * (no cycles), copied by a plain walk: controllers read whole tables on every step, and this is
 * several times faster than structuredClone, which is kept for anything that is not a plain object
 * or array (typed arrays, dates).
 */
export function cloneObject<O>(obj: O): O {
  return cloneValue(obj) as O;
}

function cloneValue(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneValue(v[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
  return out;
}

/** The stored version of an object (0 when it has none yet). */
export function versionOf(obj: StoredObject | undefined): number {
  return obj?.Version?.Index ?? 0;
}

/** Read access to a set of tables without copying: the base an overlay transaction reads from. */
export interface StateReader {
  getRaw(table: TableName, id: string): StoredObject | undefined;
  listRaw(table: TableName): StoredObject[];
  lookupRaw(table: IndexedTable, index: string, value: string): StoredObject[];
}

function indexesOf(table: TableName): Record<string, AnyIndexFn> {
  return ((INDEXES as Record<string, Record<string, AnyIndexFn>>)[table] ?? {}) as Record<string, AnyIndexFn>;
}

/** Computes the index key an object has for one index ("" and undefined are not indexed). */
export function indexValue(table: TableName, index: string, obj: StoredObject): string | undefined {
  const fn = indexesOf(table)[index];
  if (!fn) return undefined;
  const value = fn(obj as never);
  return value === undefined || value === "" ? undefined : value;
}

export class ObjectState implements StateReader {
  private readonly tables = new Map<TableName, Map<string, StoredObject>>();
  /** table → index → value → ids */
  private readonly indexes = new Map<TableName, Map<string, Map<string, Set<string>>>>();

  constructor() {
    for (const t of TABLE_NAMES) {
      this.tables.set(t, new Map());
      const byIndex = new Map<string, Map<string, Set<string>>>();
      for (const name of Object.keys(indexesOf(t))) byIndex.set(name, new Map());
      this.indexes.set(t, byIndex);
    }
  }

  getRaw(table: TableName, id: string): StoredObject | undefined {
    return this.table(table).get(id);
  }

  listRaw(table: TableName): StoredObject[] {
    return [...this.table(table).values()];
  }

  lookupRaw(table: IndexedTable, index: string, value: string): StoredObject[] {
    const ids = this.indexes.get(table)?.get(index)?.get(value);
    if (!ids) return [];
    const rows = this.table(table);
    return [...ids].map((id) => rows.get(id)).filter((o): o is StoredObject => o !== undefined);
  }

  /** Stores obj (already a private copy) under its ID, replacing any previous one. */
  put(table: TableName, obj: StoredObject): StoredObject | undefined {
    const previous = this.table(table).get(obj.ID);
    if (previous) this.unindex(table, previous);
    this.table(table).set(obj.ID, obj);
    this.index(table, obj);
    return previous;
  }

  remove(table: TableName, id: string): StoredObject | undefined {
    const previous = this.table(table).get(id);
    if (!previous) return undefined;
    this.unindex(table, previous);
    this.table(table).delete(id);
    return previous;
  }

  /** Every (table, object) pair, for diffing a reloaded state against this one. */
  *entries(): Iterable<[TableName, StoredObject]> {
    for (const [t, rows] of this.tables) for (const obj of rows.values()) yield [t, obj];
  }

  private table(table: TableName): Map<string, StoredObject> {
    const rows = this.tables.get(table);
    if (!rows) throw new Error(`unknown table ${table}`);
    return rows;
  }

  private index(table: TableName, obj: StoredObject): void {
    for (const [name, byValue] of this.indexes.get(table) ?? []) {
      const value = indexValue(table, name, obj);
      if (value === undefined) continue;
      const ids = byValue.get(value) ?? new Set<string>();
      byValue.set(value, ids);
      ids.add(obj.ID);
    }
  }

  private unindex(table: TableName, obj: StoredObject): void {
    for (const [name, byValue] of this.indexes.get(table) ?? []) {
      const value = indexValue(table, name, obj);
      if (value === undefined) continue;
      const ids = byValue.get(value);
      ids?.delete(obj.ID);
      if (ids && ids.size === 0) byValue.delete(value);
    }
  }
}

/** A ReadTx over a StateReader that hands out clones. */
export function readTxOver(reader: StateReader): ReadTx {
  return {
    get: <T extends TableName>(table: T, id: string) => {
      const obj = reader.getRaw(table, id);
      return obj === undefined ? undefined : (cloneObject(obj) as Tables[T]);
    },
    list: <T extends TableName>(table: T) => reader.listRaw(table).map((o) => cloneObject(o) as Tables[T]),
    lookup: <T extends IndexedTable>(table: T, index: string, value: string) =>
      reader.lookupRaw(table, index, value).map((o) => cloneObject(o) as Tables[T]),
  };
}
