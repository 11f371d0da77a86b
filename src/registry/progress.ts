/**
 * Progress of blob transfers, in one of four shapes: bars redrawn in place
 * on a terminal (one per blob in flight and a total, with bytes, rate and
 * ETA), one plain line per finished blob when not a terminal, JSON events
 * (one object per line) for programs, or nothing.
 */
import type { Writable } from 'node:stream';

export type BlobOutcome = 'fetched' | 'present' | 'uploaded' | 'exists' | 'mounted';

export interface Progress {
  blobStart(digest: string, size: number): void;
  blobBytes(digest: string, n: number): void;
  blobDone(digest: string, outcome: BlobOutcome): void;
  /** A retry or a phase, one line. */
  note(message: string): void;
  /** A final event (JSON mode only prints it; others print `text` if given). */
  event(name: string, fields: Record<string, unknown>): void;
  finish(): void;
}

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export function progressMode(opts: { quiet?: boolean | undefined; json?: boolean | undefined }, stderr: Writable): ProgressMode {
  if (opts.json) return 'json';
  if (opts.quiet) return 'quiet';
  return (stderr as { isTTY?: boolean }).isTTY ? 'tty' : 'plain';
}

export function makeProgress(mode: ProgressMode, stdout: Writable, stderr: Writable): Progress {
  switch (mode) {
    case 'tty':
      return new BarProgress(stderr);
    case 'plain':
      return new LineProgress(stderr);
    case 'json':
      return new JsonProgress(stdout);
    default:
      return QUIET;
  }
}

const QUIET: Progress = {
  blobStart() {},
  blobBytes() {},
  blobDone() {},
  note() {},
  event() {},
  finish() {},
};

export function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const WORDS: Record<BlobOutcome, string> = {
  fetched: 'done',
  present: 'skipped: already present',
  uploaded: 'done',
  exists: 'skipped: already exists',
  mounted: 'mounted',
};

class LineProgress implements Progress {
  constructor(private readonly out: Writable) {}
  blobStart(): void {}
  blobBytes(): void {}
  blobDone(digest: string, outcome: BlobOutcome): void {
    this.out.write(`Copying blob ${short(digest)} ${WORDS[outcome]}\n`);
  }
  note(message: string): void {
    this.out.write(`${message}\n`);
  }
  event(): void {}
  finish(): void {}
}

class JsonProgress implements Progress {
  private readonly last = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  constructor(private readonly out: Writable) {}
  private emit(event: string, fields: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify({ event, ...fields })}\n`);
  }
  blobStart(digest: string, size: number): void {
    this.seen.set(digest, 0);
    this.emit('blob-start', { digest, size });
  }
  blobBytes(digest: string, n: number): void {
    const done = (this.seen.get(digest) ?? 0) + n;
    this.seen.set(digest, done);
    const now = Date.now();
    if (now - (this.last.get(digest) ?? 0) < 500) return;
    this.last.set(digest, now);
    this.emit('blob-progress', { digest, bytes: done });
  }
  blobDone(digest: string, outcome: BlobOutcome): void {
    this.emit('blob-done', { digest, outcome });
  }
  note(message: string): void {
    this.emit('message', { message });
  }
  event(name: string, fields: Record<string, unknown>): void {
    this.emit(name, fields);
  }
  finish(): void {}
}

interface Bar {
  size: number;
  done: number;
}

/** Bars redrawn at most 10 times a second; finished blobs scroll up as plain lines. */
class BarProgress implements Progress {
  private readonly bars = new Map<string, Bar>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private totalSize = 0;
  private totalDone = 0;
  private readonly started = Date.now();

  constructor(private readonly out: Writable) {}

  blobStart(digest: string, size: number): void {
    this.bars.set(digest, { size, done: 0 });
    this.totalSize += size;
    this.schedule();
  }
  blobBytes(digest: string, n: number): void {
    const bar = this.bars.get(digest);
    if (bar) bar.done += n;
    this.totalDone += n;
    this.schedule();
  }
  blobDone(digest: string, outcome: BlobOutcome): void {
    this.bars.delete(digest);
    this.above(`Copying blob ${short(digest)} ${WORDS[outcome]}`);
  }
  note(message: string): void {
    this.above(message);
  }
  event(): void {}
  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private above(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.clear();
      this.draw();
    }, 100);
    this.timer.unref?.();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.bars.size === 0) return;
    const columns = (this.out as { columns?: number }).columns;
    const width = Math.min(Math.max(60, (columns || 100) - 1), 120);
    const elapsed = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = this.totalDone / elapsed;
    const lines = [...this.bars].map(([digest, bar]) => line(short(digest), bar.done, bar.size, width, undefined));
    lines.push(line('total', this.totalDone, this.totalSize, width, rate));
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

function line(label: string, done: number, size: number, width: number, rate: number | undefined): string {
  const frac = size > 0 ? Math.min(1, done / size) : 1;
  let tail = `${humanBytes(done)} / ${humanBytes(size)}`;
  if (rate !== undefined && rate > 0) {
    const eta = Math.max(0, (size - done) / rate);
    tail += `  ${humanBytes(rate)}/s  ETA ${eta < 60 ? `${Math.ceil(eta)}s` : `${Math.floor(eta / 60)}m${String(Math.ceil(eta % 60)).padStart(2, '0')}s`}`;
  }
  const barWidth = Math.max(20, width - 12 - tail.length - 6);
  const full = Math.round(frac * barWidth);
  return `${label.padEnd(12)} [${'='.repeat(full)}${' '.repeat(barWidth - full)}] ${tail}`;
}
