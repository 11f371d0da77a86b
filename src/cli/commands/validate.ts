import { Command } from 'clipanion';
import { assertValid, Layout, parseLayoutPath, validateLayout } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class ValidateCommand extends BaseCommand {
  static override paths = [['validate']];
  static override usage = Command.Usage({ category: 'layout', description: 'checks an OCI layout and reports every problem', details: 'Checks index.json and every reachable manifest, index and config against the OCI schemas and media-type rules, that every descriptor resolves to a stored blob of its size, and that every stored blob hashes to its name. Prints one problem per line on stdout and fails if there is any.' });
  static override argsUsage = '--layout <image-path>';

  layout = stringFlag('layout');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const layout = await Layout.open(parseLayoutPath(this.required(this.layout, 'layout')));
    try {
      const r = await validateLayout(layout);
      this.out(r.problems.map((p) => `${p}\n`).join(''));
      this.context.log.info(`checked ${r.blobsChecked} blobs and ${r.descriptorsChecked} descriptors`);
      assertValid(r);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
