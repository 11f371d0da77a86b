import { readFile } from 'node:fs/promises';
import { Command } from 'clipanion';
import { OcikitError, errnoCode } from '../../../errors.js';
import { compareTree } from '../../../mtree/compare.js';
import { parseMtree } from '../../../mtree/parse.js';
import { formatMtreeDifferences, mtreeValidationError, validateKeywords } from '../../../mtree/report.js';
import { BaseCommand } from '../../base-command.js';
import { arrayFlag, booleanFlag, stringFlag } from '../../flags.js';

export class RawMtreeValidateCommand extends BaseCommand {
  static override paths = [['raw', 'mtree-validate']];
  static override usage = Command.Usage({
    category: 'layout',
    description: 'validate a directory tree against an mtree manifest',
    details: 'Compares the tree at --path with the mtree manifest --manifest (as `gomtree validate` does) using the keywords the manifest records, or those of -k, plus those of -K. Each difference is printed on its own line; any difference makes the command fail.',
  });
  static override argsUsage = '--manifest <manifest.mtree> --path <dir>';

  manifest = stringFlag('manifest');
  treePath = stringFlag('path');
  addKeywords = arrayFlag('add-keywords');
  useKeywords = arrayFlag('use-keywords');
  umociKeywords = booleanFlag('umoci-keywords');
  rootless = booleanFlag('rootless');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const manifestPath = this.required(this.manifest, 'manifest');
    const root = this.required(this.treePath, 'path');
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (err) {
      throw new OcikitError('USAGE', `open mtree manifest ${manifestPath}: ${errnoCode(err) ?? (err as Error).message}`);
    }
    const entries = parseMtree(text);
    const keywords = validateKeywords({
      manifest: entries,
      use: this.useKeywords === undefined ? undefined : this.useKeywords.join(','),
      add: this.addKeywords === undefined ? undefined : this.addKeywords.join(','),
      umociKeywords: this.umociKeywords,
    });
    const diffs = await compareTree(root, entries, { keywords });
    if (diffs.length === 0) return 0;
    this.out(formatMtreeDifferences(diffs));
    throw mtreeValidationError(diffs.length);
  }
}
