import { Command } from 'clipanion';
import { Layout, parseImageName } from '../../../index.js';
import { unpackRootfs } from '../../../bundle/unpack.js';
import { booleanFlag, stringFlag } from '../../flags.js';
import { MapCommand } from '../../options/mapping.js';
import { layerProgress } from '../../options/progress.js';

export class RawUnpackCommand extends MapCommand {
  static override paths = [['raw', 'unpack']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'unpacks a reference into a rootfs',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tagged image to unpack (if not specified, defaults to "latest"). "<rootfs>" is the destination to extract the layers to: no config.json, umoci.json or mtree is written.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] <rootfs>';

  image = stringFlag('image');
  keepDirlinks = booleanFlag('keep-dirlinks');

  async execute(): Promise<number> {
    const [rootfs] = this.positionals(1, '<rootfs>');
    const name = parseImageName(this.required(this.image, 'image'));
    const mapOptions = this.mapOptions();
    const progress = layerProgress();
    const layout = await Layout.open(name.layout);
    try {
      await unpackRootfs(layout, name.tag, rootfs!, { mapOptions, keepDirlinks: this.keepDirlinks, log: this.context.log, onProgress: progress?.update });
    } finally {
      progress?.done();
      await layout.close();
    }
    return 0;
  }
}
