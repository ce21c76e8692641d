/**
 * IPv4 addresses and prefixes as numbers: parsing, formatting, containment and overlap. Shared by
 * the control API (validating `--subnet/--gateway/--ip-range`) and the allocator (IPAM).
 */

export interface Prefix {
  /** The network address (host bits cleared). */
  base: number;
  bits: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "10.0.1.5" → number, or undefined when not a dotted IPv4 address. */
export function parseIp(text: string): number | undefined {
  const m = IPV4.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (
    ((parts[0] ?? 0) * 2 ** 24 + (parts[1] ?? 0) * 2 ** 16 + (parts[2] ?? 0) * 2 ** 8 + (parts[3] ?? 0)) >>> 0
  );
}

export function formatIp(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");
}

export const prefixSize = (bits: number): number => 2 ** (32 - bits);

export function maskOf(ip: number, bits: number): number {
  return bits === 0 ? 0 : (Math.floor(ip / prefixSize(bits)) * prefixSize(bits)) >>> 0;
}

/** "10.0.1.0/24" → {ip, bits}; the address as written (host bits may be set). */
export function parseCidr(text: string): { ip: number; bits: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= 32 ? { ip, bits } : undefined;
}

/** The prefix a CIDR names (host bits cleared), or undefined. */
export function parsePrefix(text: string): Prefix | undefined {
  const c = parseCidr(text);
  return c ? { base: maskOf(c.ip, c.bits), bits: c.bits } : undefined;
}

export const formatPrefix = (p: Prefix): string => `${formatIp(p.base)}/${p.bits}`;

export const prefixLast = (p: Prefix): number => p.base + prefixSize(p.bits) - 1;

export const prefixContains = (p: Prefix, ip: number): boolean => ip >= p.base && ip <= prefixLast(p);

export const prefixesOverlap = (a: Prefix, b: Prefix): boolean =>
  a.base <= prefixLast(b) && b.base <= prefixLast(a);

/** "10.0.1.5/24" or "10.0.1.5" → the address. */
export function addressOf(text: string): number | undefined {
  const slash = text.indexOf("/");
  return parseIp(slash < 0 ? text : text.slice(0, slash));
}

/** An address in CIDR notation with its subnet's prefix length: "10.0.1.5/24". */
export const formatAddress = (ip: number, bits: number): string => `${formatIp(ip)}/${bits}`;
