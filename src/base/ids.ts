import { randomBytes } from "node:crypto";

/**
 * IDs are an input, like time. Swarm's object IDs are 25 lowercase base-36 characters drawn from
 * 128 random bits; the docker CLI shortens them to 12 for display.
 */
export interface Ids {
  /** A new object ID (25 characters, [0-9a-z]). */
  newId(): string;
  /** n random bytes, for secrets such as join tokens and keys. */
  randomBytes(n: number): Buffer;
}

export const ID_LENGTH = 25;

export function idFromBytes(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes.subarray(0, 16)) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(ID_LENGTH, "0").slice(-ID_LENGTH);
}

export class RandomIds implements Ids {
  newId(): string {
    return idFromBytes(randomBytes(16));
  }

  randomBytes(n: number): Buffer {
    return randomBytes(n);
  }
}

/** Deterministic IDs for tests and simulations: a seeded xorshift generator. */
export class SeededIds implements Ids {
  private state: bigint;

  constructor(seed = 1) {
    this.state = BigInt(seed) | 1n;
  }

  newId(): string {
    return idFromBytes(this.randomBytes(16));
  }

  randomBytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Number(this.next() & 0xffn);
    return out;
  }

  private next(): bigint {
    const mask = (1n << 64n) - 1n;
    let x = this.state;
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    this.state = x & mask;
    return this.state;
  }
}

export const isFullId = (s: string): boolean => /^[0-9a-z]{25}$/.test(s);
