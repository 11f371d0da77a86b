/**
 * Parallel gzip compression for new layers, pigz-style: the input is cut into
 * fixed-size blocks (1 MiB by default), each block is compressed as an
 * independent gzip member on a pool of worker threads, and the members are
 * emitted in input order. A multi-member gzip stream is one gzip file to
 * `gzip -t`, `gzip -dc`, Go's compress/gzip (umoci) and node:zlib.
 *
 * Deterministic: block boundaries depend only on byte counts, never on timing
 * or on the number of workers, and every member carries the same header
 * (mtime 0, no name, OS byte 255 "unknown" as Go's compress/gzip writes), so
 * the same input and level give the same bytes on any machine running the
 * same Node release. Node bundles Chromium's zlib, whose deflate output is
 * valid but not vanilla zlib's (a different match hash; about 2 % larger than
 * `pigz -6` on a tar of /usr), and may change when Node updates it; some of
 * its versions pick the hash by CPU feature (SSE4.2 / ARMv8 CRC, present on
 * every x86-64-v2 and ARMv8 server), so a machine without them could differ.
 *
 * The worker code is an inline string run with `eval: true`, so it works from
 * the compiled dist/src tree and from the single-file bundle alike (no worker
 * file has to sit next to the code that starts it). Idle workers are unref'd:
 * they never keep the process alive.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { OcikitError } from '../errors.js';

/** Default block size: big enough that per-member overhead (~20 bytes, a fresh dictionary) is lost in the noise. */
export const GZIP_BLOCK_SIZE = 1 << 20;
/** gzip.DefaultCompression of Go (pgzip, umoci) is level 6, as is zlib's. */
export const GZIP_DEFAULT_LEVEL = 6;
/** OS byte of every member's header: 255 (unknown), as Go's compress/gzip writes. */
const OS_UNKNOWN = 255;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', (msg) => {
  try {
    const out = zlib.gzipSync(msg.data, { level: msg.level });
    out[9] = ${OS_UNKNOWN};
    const copy = new Uint8Array(out);
    parentPort.postMessage({ out: copy }, [copy.buffer]);
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

interface Job {
  data: Uint8Array;
  level: number;
  resolve: (out: Buffer) => void;
  reject: (err: Error) => void;
}

/** A fixed-size pool of gzip workers, started on demand; each runs one block at a time. */
class GzipPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private readonly live = new Set<Worker>();

  constructor(readonly size: number) {}

  compress(data: Uint8Array, level: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ data, level, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker (idle ones are unref'd anyway; this is for tidy shutdowns and tests). */
  async close(): Promise<void> {
    const all = [...this.live];
    this.live.clear();
    this.idle.length = 0;
    for (const job of this.busy.values()) job.reject(new OcikitError('INTERNAL', 'gzip worker: pool closed'));
    this.busy.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let w = this.idle.pop();
      if (w === undefined) {
        if (this.live.size >= this.size) return;
        w = this.spawn();
      }
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.ref();
      w.postMessage({ data: job.data, level: job.level }, [job.data.buffer as ArrayBuffer]);
    }
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    this.live.add(w);
    w.on('message', (msg: { out?: Uint8Array; error?: string }) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      w.unref();
      this.idle.push(w);
      if (job !== undefined) {
        if (msg.out !== undefined) job.resolve(Buffer.from(msg.out.buffer, msg.out.byteOffset, msg.out.byteLength));
        else job.reject(new OcikitError('INTERNAL', `gzip worker: ${msg.error ?? 'no output'}`));
      }
      this.dispatch();
    });
    // A worker that dies fails its block (and so its stream); the pool starts another on demand.
    const gone = (err: Error): void => {
      if (!this.live.delete(w)) return;
      const job = this.busy.get(w);
      this.busy.delete(w);
      const at = this.idle.indexOf(w);
      if (at >= 0) this.idle.splice(at, 1);
      job?.reject(new OcikitError('INTERNAL', `gzip worker: ${err.message}`, { cause: err }));
      this.dispatch();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`exited with code ${code}`)));
    return w;
  }
}

let pool: GzipPool | undefined;

function sharedPool(): GzipPool {
  pool ??= new GzipPool(Math.max(2, availableParallelism()));
  return pool;
}

/** Terminates the shared gzip workers; the next compressor starts new ones. */
export async function closeGzipWorkers(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

export interface ParallelGzipOptions {
  /** zlib level 1..9 (default 6) */
  level?: number;
  /** input bytes per gzip member (default 1 MiB); changes the output bytes */
  blockSize?: number;
  /** blocks compressed at once by this stream (default: the pool size, max(2, cores)); never changes the output */
  workers?: number;
}

interface Slot {
  out?: Buffer;
  err?: Error;
}

/** The gzip compressor Transform: see the module comment. */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly cap: number;
  private block: Uint8Array | undefined;
  private fill = 0;
  private total = 0;
  private readonly slots: Slot[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(opts: ParallelGzipOptions = {}) {
    super();
    this.level = opts.level ?? GZIP_DEFAULT_LEVEL;
    this.blockSize = opts.blockSize ?? GZIP_BLOCK_SIZE;
    if (!Number.isInteger(this.level) || this.level < 0 || this.level > 9) {
      throw new OcikitError('USAGE', `gzip level must be 0..9, not ${this.level}`);
    }
    this.cap = Math.max(1, opts.workers ?? sharedPool().size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.accept(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _read(size: number): void {
    this.poke();
    super._read(size);
  }

  private async accept(chunk: Buffer): Promise<void> {
    let at = 0;
    this.total += chunk.length;
    while (at < chunk.length) {
      this.block ??= new Uint8Array(this.blockSize);
      const n = Math.min(chunk.length - at, this.blockSize - this.fill);
      this.block.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.blockSize) {
        const full = this.block;
        this.block = undefined;
        this.fill = 0;
        await this.room();
        this.start(sharedPool().compress(full, this.level));
      }
    }
  }

  private async finish(): Promise<void> {
    if (this.fill > 0 || this.total === 0) {
      // The last, short block; an empty input still gives one (empty) member.
      const data = (this.block ?? new Uint8Array(0)).subarray(0, this.fill);
      this.block = undefined;
      await this.room();
      // A layer smaller than one block is compressed on the libuv pool: no worker start-up for small layers.
      const small = this.total < this.blockSize;
      this.start(small ? gzipHere(data, this.level) : sharedPool().compress(data, this.level));
    }
    while (this.slots.length > 0) await this.waitFor(() => this.slots.length === 0);
  }

  private start(job: Promise<Buffer>): void {
    const slot: Slot = {};
    this.slots.push(slot);
    job.then(
      (out) => {
        slot.out = out;
        this.pump();
      },
      (err: Error) => {
        slot.err = err;
        this.pump();
      },
    );
  }

  /** Pushes finished members in order. */
  private pump(): void {
    while (this.slots.length > 0) {
      const head = this.slots[0]!;
      if (head.err !== undefined) {
        this.failure = head.err;
        this.destroy(head.err);
        break;
      }
      if (head.out === undefined) break;
      this.slots.shift();
      this.push(head.out);
    }
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits until fewer than `cap` blocks are in flight and the readable side is not backed up. */
  private room(): Promise<void> {
    return this.waitFor(() => this.slots.length < this.cap && this.readableLength < 2 * this.blockSize);
  }

  private async waitFor(ok: () => boolean): Promise<void> {
    while (!ok()) {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure !== undefined) throw this.failure;
  }
}

/** One gzip member made on the libuv pool, byte for byte what a worker makes. */
function gzipHere(data: Uint8Array, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.gzip(data, { level }, (err, out) => {
      if (err) return reject(err);
      out[9] = OS_UNKNOWN;
      resolve(out);
    });
  });
}
