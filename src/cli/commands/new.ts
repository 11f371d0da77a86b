import { Command } from 'clipanion';
import { Layout, newImage, parseImageName } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class NewCommand extends BaseCommand {
  static override paths = [['new']];
  static override usage = Command.Usage({ category: 'image', description: 'creates a blank tagged OCI image', details: 'Adds an image with an empty config (the host os and architecture, created now or at SOURCE_DATE_EPOCH) and no layers under <tag>, replacing the tag if it exists.' });
  static override argsUsage = '--image <image-path>[:<tag>]';

  image = stringFlag('image');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const name = parseImageName(this.required(this.image, 'image'));
    const layout = await Layout.open(name.layout);
    try {
      const desc = await newImage(layout, name.tag);
      this.context.log.info(`new image manifest created: ${desc.digest}`);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
