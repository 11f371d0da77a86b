import { Command } from 'clipanion';
import { Layout, parseImageName, removeTag } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class RemoveCommand extends BaseCommand {
  static override paths = [['remove'], ['rm']];
  static override usage = Command.Usage({ category: 'image', description: 'removes a tag from an OCI image', details: 'Removes every index.json entry named <tag>. Blobs stay until gc. A tag that does not exist is not an error (as in umoci).' });
  static override argsUsage = '--image <image-path>[:<tag>]';

  image = stringFlag('image');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const name = parseImageName(this.required(this.image, 'image'));
    const layout = await Layout.open(name.layout);
    try {
      const n = await removeTag(layout, name.tag);
      if (n === 0) this.context.log.info(`tag not found: ${name.tag}`);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
