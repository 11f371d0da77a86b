import { Command } from 'clipanion';
import { formatStatJson, formatStatText, Layout, parseImageName, statImage } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag, stringFlag } from '../flags.js';

export class StatCommand extends BaseCommand {
  static override paths = [['stat']];
  static override usage = Command.Usage({ category: 'image', description: 'displays status information of an image manifest', details: 'Prints the manifest, the config and the history of <tag>. The --json form is machine-readable (its format follows umoci 0.6 and may change).' });
  static override argsUsage = '--image <image-path>[:<tag>]';

  image = stringFlag('image');
  json = booleanFlag('json');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const name = parseImageName(this.required(this.image, 'image'));
    const layout = await Layout.open(name.layout);
    try {
      const stat = await statImage(layout, name.tag);
      this.out(this.json ? formatStatJson(stat) : formatStatText(stat));
    } finally {
      await layout.close();
    }
    return 0;
  }
}
