/**
 * Go's encoding/json syntax errors for a body JSON.parse refused, so the user reads what dockerd
 * would say ("invalid character 'x' looking for beginning of value", "unexpected EOF"). A small
 * recursive scanner, run only on the error path.
 */

class SyntaxFail extends Error {}

const EOF_TEXT = "unexpected EOF";

/** Go's quoteChar: `'x'`, with `'\''` and escapes for control characters. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  run(): void {
    this.value();
    this.ws();
    if (this.i < this.s.length) this.fail("after top-level value");
  }

  private peek(): string {
    if (this.i >= this.s.length) throw new SyntaxFail(EOF_TEXT);
    return this.s[this.i]!;
  }

  private fail(context: string): never {
    throw new SyntaxFail(`invalid character ${quoteChar(this.peek())} ${context}`);
  }

  private ws(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++;
  }

  private value(): void {
    this.ws();
    const c = this.peek();
    if (c === "{") this.object();
    else if (c === "[") this.array();
    else if (c === '"') this.string();
    else if (c === "-" || (c >= "0" && c <= "9")) this.number();
    else if (c === "t") this.literal("true");
    else if (c === "f") this.literal("false");
    else if (c === "n") this.literal("null");
    else this.fail("looking for beginning of value");
  }

  private object(): void {
    this.i++;
    this.ws();
    if (this.peek() === "}") {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== '"') this.fail("looking for beginning of object key string");
      this.string();
      this.ws();
      if (this.peek() !== ":") this.fail("after object key");
      this.i++;
      this.value();
      this.ws();
      const c = this.peek();
      this.i++;
      if (c === "}") return;
      if (c !== ",") {
        this.i--;
        this.fail("after object key:value pair");
      }
    }
  }

  private array(): void {
    this.i++;
    this.ws();
    if (this.peek() === "]") {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      const c = this.peek();
      this.i++;
      if (c === "]") return;
      if (c !== ",") {
        this.i--;
        this.fail("after array element");
      }
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === "\\") {
        this.i++;
        const e = this.peek();
        if (e === "u") {
          for (let k = 0; k < 4; k++) {
            this.i++;
            if (!/[0-9a-fA-F]/.test(this.peek())) this.fail("in \\u hexadecimal character escape");
          }
        } else if (!'"\\/bfnrt'.includes(e)) this.fail("in string escape code");
      } else if (c < " ") this.fail("in string literal");
      this.i++;
    }
  }

  private digits(context: string): void {
    if (!/[0-9]/.test(this.peek())) this.fail(context);
    while (this.i < this.s.length && /[0-9]/.test(this.s[this.i]!)) this.i++;
  }

  private number(): void {
    if (this.peek() === "-") this.i++;
    if (this.peek() === "0") this.i++;
    else this.digits("in numeric literal");
    if (this.s[this.i] === ".") {
      this.i++;
      this.digits("after decimal point in numeric literal");
    }
    if (this.s[this.i] === "e" || this.s[this.i] === "E") {
      this.i++;
      if (this.peek() === "+" || this.peek() === "-") this.i++;
      this.digits("in exponent of numeric literal");
    }
  }

  private literal(word: string): void {
    for (const expected of word) {
      if (this.peek() !== expected) this.fail(`in literal ${word} (expecting ${quoteChar(expected)})`);
      this.i++;
    }
  }
}

/** Go's message for the first syntax error in `text`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  try {
    new Scanner(text).run();
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxFail) return err.message;
    throw err;
  }
}
