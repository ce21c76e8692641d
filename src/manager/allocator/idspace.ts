/**
 * A range of integer IDs (addresses, VNIs, ports) with an owner per used ID: libnetwork's bitmap
 * and SwarmKit's idm, with their serial allocation (the next free ID after the last one handed out,
 * wrapping around), so a freed ID is not reused at once.
 */

export class IdSpace {
  private readonly used = new Map<number, string>();
  /** The last ID handed out (or, after a rebuild, the highest used): serial search starts after it. */
  private last: number;

  constructor(
    readonly lo: number,
    readonly hi: number,
    last?: number,
  ) {
    this.last = last ?? lo - 1;
  }

  owner(id: number): string | undefined {
    return this.used.get(id);
  }

  /** The serial cursor: the last ID handed out. */
  get cursor(): number {
    return this.last;
  }

  get size(): number {
    return this.used.size;
  }

  /** Marks `id` used by `owner`; false when out of range or held by someone else. */
  reserve(id: number, owner: string): boolean {
    if (id < this.lo || id > this.hi) return false;
    const held = this.used.get(id);
    if (held !== undefined) return held === owner;
    this.used.set(id, owner);
    return true;
  }

  /** Frees `id` if `owner` (or anyone, without owner) holds it. */
  release(id: number, owner?: string): void {
    if (owner === undefined || this.used.get(id) === owner) this.used.delete(id);
  }

  /** The next free ID in [from, to] (default the whole space) after the cursor, serially. */
  next(owner: string, from = this.lo, to = this.hi): number | undefined {
    const start = this.last >= from && this.last < to ? this.last + 1 : from;
    for (let id = start; id <= to; id++) if (this.take(id, owner)) return id;
    for (let id = from; id < start; id++) if (this.take(id, owner)) return id;
    return undefined;
  }

  /** After a rebuild: continue after the highest used ID in [from, to]. */
  resumeAfterHighest(from = this.lo, to = this.hi): void {
    let highest = from - 1;
    for (const id of this.used.keys()) if (id >= from && id <= to && id > highest) highest = id;
    this.last = highest;
  }

  /** Used IDs with their owners, ascending (for tests and rebuild comparisons). */
  entries(): Array<[number, string]> {
    return [...this.used.entries()].sort((a, b) => a[0] - b[0]);
  }

  private take(id: number, owner: string): boolean {
    if (this.used.has(id)) return false;
    this.used.set(id, owner);
    this.last = id;
    return true;
  }
}
