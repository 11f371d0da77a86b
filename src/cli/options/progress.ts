import type { LayerProgress } from '../../layer/apply.js';

/**
 * Progress of long unpacks on a terminal: one line, rewritten in place, with
 * the layer and its bytes. Nothing when stderr is not a TTY (scripts and CI
 * see only results and errors, as with umoci).
 */
export function layerProgress(stream: NodeJS.WriteStream = process.stderr): { update: (p: LayerProgress) => void; done: () => void } | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let shown = false;
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.bytes !== p.size) return;
      last = now;
      shown = true;
      stream.write(`\r\x1b[Klayer ${p.layer + 1}/${p.layers}: ${mb(p.bytes)} / ${mb(p.size)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** Progress of repack on a terminal: the comparison, then entries archived. */
export function repackProgress(stream: NodeJS.WriteStream = process.stderr): { update: (p: { phase: 'compare' | 'archive'; done: number; total: number }) => void; done: () => void } | undefined {
  if (!stream.isTTY) return undefined;
  let shown = false;
  return {
    update(p) {
      shown = true;
      const text = p.phase === 'compare' ? `comparing rootfs with ${p.total} mtree entries` : `writing layer: ${p.done}/${p.total} entries`;
      stream.write(`\r\x1b[K${text}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
