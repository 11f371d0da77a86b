/**
 * zstd layer streams. node:zlib's zstd is used when the running Node has it
 * (Node >= 22.15); otherwise the `zstd` program (Debian package zstd) runs
 * through pipes. Node 20 has no zstd; the program is as fast as the native
 * addons measured (performance.md) and needs no build at install time.
 *
 * Compression with the program uses `zstd -3 -c -q -T0`: zstd's multi-threaded
 * mode gives the same bytes for any thread count >= 1 (checked with zstd 1.5.4:
 * -T1, -T2, -T4, -T8 and -T0 agree byte for byte on 1.2 GB), so -T0 uses every
 * core and stays deterministic across machines for one zstd version. It is
 * not the same output as single-threaded zstd (--single-thread, or node:zlib's
 * zstd), so a layer made under Node >= 22.15 differs from one made here.
 */
import { spawn } from 'node:child_process';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import zlib from 'node:zlib';
import { OcikitError } from '../errors.js';
import { tooBig } from './output-limit.js';

interface ZstdZlib {
  createZstdDecompress?: () => Transform;
  createZstdCompress?: (opts: { params: Record<number, number> }) => Transform;
  constants: Record<string, number>;
}
const z = zlib as unknown as ZstdZlib;

/** True when node:zlib has zstd (Node >= 22.15); false sends zstd through the `zstd` program. */
export function nativeZstd(): boolean {
  return typeof z.createZstdDecompress === 'function' && typeof z.createZstdCompress === 'function';
}

/** The running end of a zstd job: where to write, where to read, and a promise that settles when it is over. */
interface Engine {
  input: Writable;
  output: Readable;
  done: Promise<void>;
  kill(): void;
}

function zlibEngine(stream: Transform): Engine {
  const done = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', (err) => reject(new OcikitError('VALIDATION_FAILED', `zstd: ${err.message}`, { cause: err })));
  });
  return { input: stream, output: stream, done, kill: () => stream.destroy() };
}

/** "/*stdin*\ : Read error (39) : premature end" -> "unexpected end of file" */
function zstdMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  let msg = lines[lines.length - 1] ?? 'failed';
  msg = msg.replace(/^zstd:\s*/, '').replace(/^\/\*stdin\*\\\s*:\s*/, '').replace(/^Read error \(\d+\) : premature end$/, 'unexpected end of file');
  return msg;
}

function programEngine(args: string[]): Engine {
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  // zstd stopping early (corrupt input) closes its stdin: the exit status says why.
  child.stdin.on('error', () => undefined);
  const outputEnded = new Promise<void>((resolve) => child.stdout.once('end', resolve));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new OcikitError('MEDIA_TYPE_UNSUPPORTED', 'zstd layers need the zstd program (Debian package zstd), which is not installed', { cause: err }));
      } else {
        reject(new OcikitError('IO', `zstd: ${err.message}`, { cause: err }));
      }
    });
    child.once('close', (code, signal) => {
      if (code === 0) outputEnded.then(resolve, reject);
      else if (signal !== null) reject(new OcikitError('IO', `zstd: killed by ${signal}`));
      else reject(new OcikitError('VALIDATION_FAILED', `zstd: ${zstdMessage(stderr)}`));
    });
  });
  return { input: child.stdin, output: child.stdout, done, kill: () => child.kill() };
}

/**
 * A Transform around an Engine: writes go to the engine one at a time (its
 * backpressure is ours), its output is pushed with our readable side's
 * backpressure, and the engine's end or failure ends or fails this stream.
 */
class EngineStream extends Transform {
  private emitted = 0;
  private failure: Error | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly maxOutput: number,
  ) {
    super();
    engine.done.catch((err: Error) => {
      this.failure = err;
      this.destroy(err);
    });
    engine.output.on('data', (buf: Buffer) => {
      this.emitted += buf.length;
      if (this.emitted > this.maxOutput) {
        this.failure = tooBig(this.maxOutput);
        this.destroy(this.failure);
        engine.kill();
        return;
      }
      if (!this.push(buf)) engine.output.pause();
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.failure !== undefined) return cb(this.failure);
    this.engine.input.write(chunk, (err) => {
      // A write error means the engine stopped; its own error is the one to report.
      if (err) this.engine.done.then(() => cb(err), cb);
      else cb();
    });
  }

  override _flush(cb: TransformCallback): void {
    this.engine.input.end();
    this.engine.done.then(() => cb(), cb);
  }

  override _read(size: number): void {
    if (this.engine.output.isPaused()) this.engine.output.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.engine.kill();
    super._destroy(err, cb);
  }
}

/** zstd decompression (any number of frames) with one-line "zstd: ..." errors. */
export function zstdDecompressor(maxOutput = Infinity): Transform {
  const engine = nativeZstd() ? zlibEngine(z.createZstdDecompress!()) : programEngine(['-d', '-c', '-q']);
  return new EngineStream(engine, maxOutput);
}

/** zstd compression at `level` (default 3, umoci's klauspost SpeedDefault). */
export function zstdCompressor(level = 3): Transform {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new OcikitError('USAGE', `zstd level must be 1..19, not ${level}`);
  }
  const engine = nativeZstd()
    ? zlibEngine(z.createZstdCompress!({ params: { [z.constants.ZSTD_c_compressionLevel!]: level } }))
    : programEngine([`-${level}`, '-c', '-q', '-T0']);
  return new EngineStream(engine, Infinity);
}
