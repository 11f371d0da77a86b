/** The only module that writes diagnostics to the terminal (results go to stdout from commands). */
import type { Logger } from '../index.js';
import { OcikitError } from '../errors.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(value: string | undefined, verbose: boolean): LogLevel {
  if (value !== undefined && verbose) throw new OcikitError('USAGE', '--log=* and --verbose are mutually exclusive');
  if (verbose) return 'info';
  if (value === undefined) return 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new OcikitError('USAGE', `parsing log level: invalid level ${JSON.stringify(value)} (debug, info, warn, error, fatal)`);
  return value as LogLevel;
}

export class StderrLogger implements Logger {
  private readonly rank: number;
  private readonly warned = new Set<string>();

  constructor(readonly level: LogLevel, private readonly stderr: NodeJS.WritableStream = process.stderr) {
    this.rank = LOG_LEVELS.indexOf(level);
  }

  private write(level: LogLevel, message: string): void {
    if (LOG_LEVELS.indexOf(level) >= this.rank) this.stderr.write(`${level}: ${message}\n`);
  }

  debug(message: string): void { this.write('debug', message); }
  info(message: string): void { this.write('info', message); }
  /** A repeated warning is shown once. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.write('warn', message);
  }
}

/** Renders a failure as one line (plus a hint line, and the cause chain at debug level). */
export function renderError(prog: string, command: string, err: unknown, level: LogLevel): string {
  const where = command === '' ? prog : `${prog} ${command}`;
  const lines: string[] = [];
  if (err instanceof OcikitError) {
    lines.push(`${where}: ${err.message}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
    if (err.code === 'INTERNAL') lines.push('hint: this is a bug in ocikit; please report it');
  } else if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    lines.push(`${where}: ${err.message}`);
    if ((err as { code: string }).code === 'EACCES' || (err as { code: string }).code === 'EPERM') lines.push('hint: maybe --rootless will help?');
  } else {
    lines.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    lines.push('hint: this is a bug in ocikit; please report it');
  }
  if (level === 'debug' && err instanceof Error) {
    let e: unknown = err;
    while (e instanceof Error) {
      lines.push(e.stack ?? e.message);
      e = e.cause;
    }
  }
  // The first line stays one line whatever the message holds.
  lines[0] = lines[0]!.replace(/\s*\n\s*/g, ' ');
  return lines.join('\n') + '\n';
}
