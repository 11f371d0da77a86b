/**
 * Where `save` writes an archive: a file, made atomically (a temporary file
 * in the same directory, fsynced and renamed over FILE only once the archive
 * is complete, so a failure or an interrupt leaves no partial archive), or a
 * stream the caller owns (stdout), which is written to but never ended.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { errnoCode, OcikitError, wrap } from '../errors.js';
import { fsyncDir, tempName } from '../util/fsync.js';

export interface ArchiveOutput {
  /** What TarWriter writes to; TarWriter.finish() ends it. */
  stream: NodeJS.WritableStream;
  /** After the stream has finished: put the file in place. */
  commit(): Promise<void>;
  /** After a failure: remove the temporary file. Never throws. */
  abort(): Promise<void>;
}

/** A temporary file beside `file`, renamed to it on commit. */
export async function fileOutput(file: string): Promise<ArchiveOutput> {
  const target = resolve(file);
  const dir = dirname(target);
  const tmp = join(dir, `${tempName()}-${basename(target)}`);
  const ws: WriteStream = createWriteStream(tmp, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 });
  try {
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new OcikitError('IO', `write archive: no such directory: ${dirname(file)}`, { cause: err });
    throw wrap(`write archive ${file}`, err);
  }
  return {
    stream: ws,
    async commit() {
      try {
        await finished(ws);
        const fh = await open(tmp, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, target);
        await fsyncDir(dir);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw wrap(`write archive ${file}`, err);
      }
    },
    async abort() {
      ws.destroy();
      await finished(ws).catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}

/** Writes through to `out` (waiting for 'drain'); ending this stream does not end `out`. */
export function streamOutput(out: NodeJS.WritableStream): ArchiveOutput {
  const stream = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (out.write(chunk)) cb();
      else out.once('drain', () => cb());
    },
    final(cb) {
      // The callback of an empty write runs once everything before it is flushed.
      out.write(Buffer.alloc(0), (err) => cb(err ?? null));
    },
  });
  return { stream, commit: async () => finished(stream), abort: async () => void stream.destroy() };
}
