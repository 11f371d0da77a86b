import type { HistoryOptions } from '../../index.js';
import { OcikitError } from '../../errors.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag, stringFlag } from '../flags.js';

/** umoci's history flag group (config, repack, insert, raw add-layer), declared once. */
export abstract class HistoryCommand extends BaseCommand {
  noHistory = booleanFlag('no-history');
  historyAuthor = stringFlag('history.author');
  historyComment = stringFlag('history.comment');
  historyCreated = stringFlag('history.created');
  historyCreatedBy = stringFlag('history.created_by');

  /** The history options, or false for --no-history; refuses the two together, as umoci does. */
  protected historyOptions(): HistoryOptions | false {
    const opts: HistoryOptions = {};
    if (this.historyAuthor !== undefined) opts.author = this.historyAuthor;
    if (this.historyComment !== undefined) opts.comment = this.historyComment;
    if (this.historyCreated !== undefined) opts.created = this.historyCreated;
    if (this.historyCreatedBy !== undefined) opts.createdBy = this.historyCreatedBy;
    if (!this.noHistory) return opts;
    const given = (['author', 'comment', 'created', 'createdBy'] as const).find((k) => opts[k] !== undefined);
    if (given !== undefined) {
      throw new OcikitError('USAGE', `--no-history and --history.${given === 'createdBy' ? 'created_by' : given} may not be specified together`);
    }
    return false;
  }
}
