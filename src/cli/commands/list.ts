import { Command } from 'clipanion';
import { Layout, listImages, listTags, parseLayoutPath } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag, stringFlag } from '../flags.js';

export class ListCommand extends BaseCommand {
  static override paths = [['list'], ['ls']];
  static override usage = Command.Usage({ category: 'layout', description: 'lists the set of tags in an OCI layout', details: 'Prints each tag of the layout, in index.json order, one per line. With --long, each line also has the manifest digest, the image size (manifest, config and layers), the creation time and the platform, separated by tabs.' });
  static override argsUsage = '--layout <image-path>';

  layout = stringFlag('layout');
  long = booleanFlag('long');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const layout = await Layout.open(parseLayoutPath(this.required(this.layout, 'layout')));
    try {
      if (!this.long) {
        this.out((await listTags(layout)).map((t) => `${t}\n`).join(''));
        return 0;
      }
      for (const s of await listImages(layout)) {
        const cols = [s.tag, s.digest, String(s.size), s.created ?? '-', s.platform ?? '-'];
        if (s.error !== undefined) cols.push(`error: ${s.error}`);
        this.out(`${cols.join('\t')}\n`);
      }
    } finally {
      await layout.close();
    }
    return 0;
  }
}
