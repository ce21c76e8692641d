/**
 * A copy-on-write transaction over a StateReader. Writes go to a private overlay; reads see the
 * overlay over the base. Nothing touches the base: the backend validates and applies `changes()`.
 *
 * Objects written in the transaction carry `Version.Index = pendingRevision` (the revision the commit
 * is expected to get), so get → modify → update inside one transaction works.
 */
import { alreadyExists, invalidArgument, notFound, SequenceConflictError } from "../base/index.ts";
import { cloneObject, indexValue, type StateReader, versionOf } from "./state.ts";
import type { IndexedTable, IndexName, StoredObject, TableName, Tables, WriteTx } from "./types.ts";

/** The net effect of a transaction on one object. */
export interface Change {
  table: TableName;
  id: string;
  /** The object in the base before the transaction (undefined: it did not exist). */
  before: StoredObject | undefined;
  /** The object after the transaction (undefined: deleted); Version not yet final. */
  after: StoredObject | undefined;
}

interface Slot {
  table: TableName;
  id: string;
  value: StoredObject | undefined;
}

const slotKey = (table: TableName, id: string): string => `${table}/${id}`;

export class OverlayTx implements WriteTx, StateReader {
  private readonly writes = new Map<string, Slot>();

  constructor(
    private readonly base: StateReader,
    private readonly pendingRevision: number,
  ) {}

  /** Number of distinct objects written. */
  get size(): number {
    return this.writes.size;
  }

  /** True if this transaction wrote the object. */
  touches(table: TableName, id: string): boolean {
    return this.writes.has(slotKey(table, id));
  }

  getRaw(table: TableName, id: string): StoredObject | undefined {
    const slot = this.writes.get(slotKey(table, id));
    return slot ? slot.value : this.base.getRaw(table, id);
  }

  listRaw(table: TableName): StoredObject[] {
    const out = this.base.listRaw(table).filter((o) => !this.writes.has(slotKey(table, o.ID)));
    for (const slot of this.writes.values()) if (slot.table === table && slot.value) out.push(slot.value);
    return out;
  }

  lookupRaw(table: IndexedTable, index: string, value: string): StoredObject[] {
    const out = this.base
      .lookupRaw(table, index, value)
      .filter((o) => !this.writes.has(slotKey(table, o.ID)));
    for (const slot of this.writes.values()) {
      if (slot.table !== table || !slot.value) continue;
      if (indexValue(table, index, slot.value) === value) out.push(slot.value);
    }
    return out;
  }

  get<T extends TableName>(table: T, id: string): Tables[T] | undefined {
    const obj = this.getRaw(table, id);
    return obj === undefined ? undefined : (cloneObject(obj) as Tables[T]);
  }

  list<T extends TableName>(table: T): Tables[T][] {
    return this.listRaw(table).map((o) => cloneObject(o) as Tables[T]);
  }

  lookup<T extends IndexedTable>(table: T, index: IndexName<T>, value: string): Tables[T][] {
    return this.lookupRaw(table, index, value).map((o) => cloneObject(o) as Tables[T]);
  }

  create<T extends TableName>(table: T, obj: Tables[T]): void {
    if (!obj.ID) throw invalidArgument(`${singular(table)} has no ID`);
    if (this.getRaw(table, obj.ID)) throw alreadyExists(`${singular(table)} ${obj.ID} already exists`);
    this.set(table, obj.ID, this.stamp(obj));
  }

  update<T extends TableName>(table: T, obj: Tables[T]): void {
    const current = this.getRaw(table, obj.ID);
    if (!current) throw notFound(`${singular(table)} ${obj.ID} not found`);
    if (versionOf(obj) !== versionOf(current)) {
      throw new SequenceConflictError(
        `${singular(table)} ${obj.ID}: version ${versionOf(obj)}, stored ${versionOf(current)}`,
      );
    }
    this.set(table, obj.ID, this.stamp(obj));
  }

  delete<T extends TableName>(table: T, id: string): void {
    if (!this.getRaw(table, id)) throw notFound(`${singular(table)} ${id} not found`);
    this.set(table, id, undefined);
  }

  /** Net changes in first-write order; objects created and deleted again are left out. */
  changes(): Change[] {
    const out: Change[] = [];
    for (const slot of this.writes.values()) {
      const before = this.base.getRaw(slot.table, slot.id);
      if (!before && !slot.value) continue;
      out.push({ table: slot.table, id: slot.id, before, after: slot.value });
    }
    return out;
  }

  /** Copies another transaction's writes (made over this one) into this one: nesting for batch(). */
  absorb(child: OverlayTx): void {
    for (const slot of child.writes.values()) this.set(slot.table, slot.id, slot.value);
  }

  private set(table: TableName, id: string, value: StoredObject | undefined): void {
    const key = slotKey(table, id);
    // Delete-then-reinsert would move the slot; keep first-write order for event order.
    const slot = this.writes.get(key);
    if (slot) slot.value = value;
    else this.writes.set(key, { table, id, value });
  }

  private stamp(obj: StoredObject): StoredObject {
    const copy = cloneObject(obj);
    copy.Version = { Index: this.pendingRevision };
    return copy;
  }
}

function singular(table: TableName): string {
  return table.endsWith("s") ? table.slice(0, -1) : table;
}
