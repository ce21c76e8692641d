/** Narrowing helpers for JSON from dockerd: unknown in, typed values out, never `any`. */

export function rec(x: unknown): Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
}

export function str(x: unknown): string {
  return typeof x === "string" ? x : "";
}

export function num(x: unknown): number {
  return typeof x === "number" && Number.isFinite(x) ? x : 0;
}

export function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

export function strings(x: unknown): string[] {
  return arr(x).filter((v): v is string => typeof v === "string");
}
