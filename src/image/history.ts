/** History entries as umoci writes them for config, repack, insert and raw add-layer. */
import { OcikitError } from '../errors.js';
import { formatRfc3339Nano, nowLocal, parseRfc3339, sourceDateEpoch } from '../oci/go-time.js';
import type { History } from '../oci/types.js';

/** The `--history.*` flags; `false` is `--no-history`. */
export interface HistoryOptions {
  author?: string;
  comment?: string;
  /** RFC 3339, as given by the user */
  created?: string;
  createdBy?: string;
}

/**
 * The entry to append: created from --history.created, else SOURCE_DATE_EPOCH,
 * else now (local time, as Go's time.Now()); author defaults to `defaultAuthor`.
 */
export function makeHistory(opts: HistoryOptions, defaults: { createdBy: string; author?: string; emptyLayer: boolean }, env = process.env): History {
  let created: string;
  if (opts.created !== undefined) created = formatRfc3339Nano(parseRfc3339(opts.created, '--history.created'));
  else created = formatRfc3339Nano(sourceDateEpoch(env) ?? nowLocal());
  const entry: History = {
    created,
    created_by: opts.createdBy ?? defaults.createdBy,
    author: opts.author ?? defaults.author ?? '',
    comment: opts.comment ?? '',
    empty_layer: defaults.emptyLayer,
  };
  return entry;
}

/** Refuses --no-history together with a --history.* flag, as umoci does. */
export function checkHistoryFlags(noHistory: boolean, opts: HistoryOptions): void {
  if (!noHistory) return;
  const flag = (['author', 'comment', 'created', 'createdBy'] as const).find((k) => opts[k] !== undefined);
  if (flag !== undefined) {
    const name = flag === 'createdBy' ? 'created_by' : flag;
    throw new OcikitError('USAGE', `--no-history and --history.${name} may not be specified together`);
  }
}
