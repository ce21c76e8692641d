/**
 * Go's `time.ParseDuration`, the syntax the docker CLI uses for every duration flag (`5s`, `1m30s`,
 * `500ms`), so that shoal's own duration settings read the same. Messages are Go's.
 */

const UNITS_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const quote = (s: string): string => JSON.stringify(s);

/** `1m30s` → 90e9 nanoseconds. Throws an Error with Go's message on bad input. */
export function parseGoDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  // Go accepts a bare "0" (and "-0", "+0") without a unit, nothing else
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${quote(text)}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(?:\.(\d*))?/.exec(rest)?.[0] ?? "";
    if (num === "" || num === ".") throw new Error(`time: invalid duration ${quote(text)}`);
    rest = rest.slice(num.length);
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? "";
    if (unit === "") throw new Error(`time: missing unit in duration ${quote(text)}`);
    const scale = UNITS_NS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${quote(unit)} in duration ${quote(text)}`);
    rest = rest.slice(unit.length);
    total += Number(num) * scale;
  }
  return sign * Math.round(total);
}

/** Nanoseconds as Go prints a duration (`2s`, `1.5s`, `1m30s`, `500ms`), for messages. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${sign}${abs}ns`;
  if (abs < 1e6) return `${sign}${trim(abs / 1e3)}µs`;
  if (abs < 1e9) return `${sign}${trim(abs / 1e6)}ms`;
  const h = Math.floor(abs / 3600e9);
  const m = Math.floor((abs % 3600e9) / 60e9);
  const s = (abs % 60e9) / 1e9;
  return `${sign}${h > 0 ? `${h}h` : ""}${h > 0 || m > 0 ? `${m}m` : ""}${trim(s)}s`;
}

const trim = (n: number): string => String(Number(n.toFixed(9)));
