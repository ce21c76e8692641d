import { pino } from "pino";

/**
 * A narrow logger interface backed by pino. One child per subsystem (`module: "manager/scheduler"`).
 * Never pass a secret's data as a field.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface LoggerOptions {
  level?: LogLevel;
  /** A file descriptor or path to write JSON lines to; default stderr. */
  destination?: number | string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = pino.destination({ dest: options.destination ?? 2, sync: true });
  return pino({ level: options.level ?? "info", base: undefined }, dest);
}

/** A logger that keeps lines in memory: tests print them only on failure. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string } & Record<string, unknown>>;
  private readonly bound: Record<string, unknown>;

  constructor(bound: Record<string, unknown> = {}, lines: MemoryLogger["lines"] = []) {
    this.bound = bound;
    this.lines = lines;
  }

  debug(fields: Record<string, unknown>, msg: string): void {
    this.push("debug", fields, msg);
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.push("info", fields, msg);
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.push("warn", fields, msg);
  }
  error(fields: Record<string, unknown>, msg: string): void {
    this.push("error", fields, msg);
  }
  child(fields: Record<string, unknown>): Logger {
    return new MemoryLogger({ ...this.bound, ...fields }, this.lines);
  }

  private push(level: string, fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ ...this.bound, ...fields, level, msg });
  }
}

export const silentLogger = (): Logger => new MemoryLogger();
