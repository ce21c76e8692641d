/**
 * The managers a worker knows (their cluster API addresses): each new session asks the next one,
 * so a dead manager is left behind after one failed attempt. The list is refreshed from the
 * `managers` route on every session (see RemoteDispatcherConnector's `onManagers`) and saved in
 * state.json so a restarted worker still finds its way in.
 */
export class ManagerList {
  private addrs: string[];
  private next = 0;

  constructor(
    initial: readonly string[],
    private readonly onChange: (addrs: string[]) => void = () => undefined,
  ) {
    this.addrs = dedupe(initial);
  }

  get all(): readonly string[] {
    return this.addrs;
  }

  /** The address for the next session attempt (round robin). */
  pick(): string {
    if (this.addrs.length === 0) throw new Error("no manager address known");
    const addr = this.addrs[this.next % this.addrs.length] as string;
    this.next = (this.next + 1) % this.addrs.length;
    return addr;
  }

  /**
   * Replaces the list with the cluster's current one. The manager just used stays the next pick,
   * so a healthy session is not moved elsewhere by a refresh.
   */
  update(addrs: readonly string[]): void {
    const fresh = dedupe(addrs);
    if (fresh.length === 0 || sameSet(fresh, this.addrs)) return;
    const current = this.addrs[(this.next + this.addrs.length - 1) % Math.max(1, this.addrs.length)];
    this.addrs = fresh;
    const at = current === undefined ? -1 : fresh.indexOf(current);
    this.next = Math.max(at, 0);
    this.onChange([...fresh]);
  }
}

function dedupe(addrs: readonly string[]): string[] {
  return [...new Set(addrs.filter((a) => a !== ""))];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
