/** Go-style durations, docker's byte sizes and CPU counts, as the compose loader parses them. */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** `1m30s`, `500ms`, `10s` → nanoseconds (a bare number other than 0 is invalid, as in Go). */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  const negative = text.startsWith("-");
  if (negative || text.startsWith("+")) pos = 1;
  if (pos >= text.length) throw new Error(`time: invalid duration "${text}"`);
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`time: invalid duration "${text}"`);
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return Math.round(negative ? -total : total);
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** docker's RAMInBytes: `512m`, `1G`, `1.5gb`, `1024` (binary units, case-insensitive). */
export function parseBytes(value: string | number): number {
  if (typeof value === "number") return value;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new Error(`invalid size: '${value}'`);
  return Math.floor(Number(m[1]) * (BYTE_UNITS[(m[2] as string).toLowerCase()] as number));
}

/** `0.5` → 500000000 NanoCPUs, as docker's ParseCPUs. */
export function parseCpus(value: string | number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`failed to parse ${value} as a rational number`);
  return Math.round(n * 1e9);
}

/** shlex-like split of a command string, as compose does for `command: "a b 'c d'"`. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error(`unclosed quote in ${JSON.stringify(text)}`);
  if (has) out.push(cur);
  return out;
}

/** A `.env`-style file: `KEY=VALUE` lines, `#` comments, optional `export `, quoted values. */
export function parseEnvFile(
  text: string,
  lookup: (key: string) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.startsWith("export ") ? line.slice(7).trim() : line;
    const eq = body.indexOf("=");
    if (eq < 0) {
      const v = lookup(body);
      if (v !== undefined) out[body] = v;
      continue;
    }
    const key = body.slice(0, eq).trim();
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, "");
    out[key] = value;
  }
  return out;
}
