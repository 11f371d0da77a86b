import { Command } from 'clipanion';
import { Layout } from '../../index.js';
import { extractImage } from '../../bundle/extract.js';
import { booleanFlag } from '../flags.js';
import { layerProgress } from '../options/progress.js';
import { SourceCommand } from '../options/source.js';

export class ExtractCommand extends SourceCommand {
  static override paths = [['extract']];
  static override usage = Command.Usage({
    category: 'image',
    description: "flattens an image's layers into a directory",
    details: 'SOURCE is oci:LAYOUT[:TAG] or docker://REFERENCE (pulled through a cache layout first). The tree is built beside DIR and moved into place once complete; a non-empty DIR is replaced only with --force. No bundle, config.json or mtree is written.',
  });
  static override argsUsage = '<source> <dir>';

  force = booleanFlag('force');

  async execute(): Promise<number> {
    const [source, dir] = this.positionals(2, '<source> <dir>');
    const mapOptions = this.mapOptions();
    const platform = this.wantedPlatform();
    const image = await this.sourceImage(source!, { allowNoCache: true });
    const progress = layerProgress();
    try {
      const layout = await Layout.open(image.layout);
      try {
        await extractImage(layout, image.tag, dir!, { mapOptions, force: this.force, log: this.context.log, onProgress: progress?.update, ...(platform ? { platform } : {}) });
      } finally {
        await layout.close();
      }
    } finally {
      progress?.done();
      await image.cleanup();
    }
    return 0;
  }
}
