import { Command } from 'clipanion';
import { Layout, parseImageName, resolveTag, setTag, isValidRefName, OcikitError } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class TagCommand extends BaseCommand {
  static override paths = [['tag']];
  static override usage = Command.Usage({ category: 'image', description: 'creates a new tag in an OCI image', details: 'Points <new-tag> at the manifest that <tag> resolves to, replacing <new-tag> if it exists.' });
  static override argsUsage = '--image <image-path>[:<tag>] <new-tag>';

  image = stringFlag('image');

  async execute(): Promise<number> {
    const [newTag] = this.positionals(1, '<new-tag>');
    const name = parseImageName(this.required(this.image, 'image'));
    if (!isValidRefName(newTag!)) throw new OcikitError('TAG_INVALID', `new tag is an invalid reference: ${JSON.stringify(newTag)}`);
    const layout = await Layout.open(name.layout);
    try {
      await layout.withLock('content', 'shared', async () => {
        const path = await resolveTag(layout, name.tag);
        await setTag(layout, newTag!, path[path.length - 1]!);
      });
    } finally {
      await layout.close();
    }
    return 0;
  }
}
