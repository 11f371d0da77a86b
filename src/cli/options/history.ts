import { checkHistoryFlags, type HistoryOptions } from '../../index.js';
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
    checkHistoryFlags(this.noHistory, opts);
    return this.noHistory ? false : opts;
  }
}
