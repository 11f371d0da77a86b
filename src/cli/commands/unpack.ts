import { Command } from 'clipanion';
import { Layout, parseImageName } from '../../index.js';
import { unpackBundle } from '../../bundle/unpack.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { MapCommand } from '../options/mapping.js';
import { layerProgress } from '../options/progress.js';

export class UnpackCommand extends MapCommand {
  static override paths = [['unpack']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'unpacks a reference into an OCI runtime bundle',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tagged image to unpack (if not specified, defaults to "latest"). "<bundle>" is the destination to unpack the image to: it gets rootfs/, config.json, umoci.json and an mtree manifest of the rootfs.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] <bundle>';

  image = stringFlag('image');
  keepDirlinks = booleanFlag('keep-dirlinks');

  async execute(): Promise<number> {
    const [bundle] = this.positionals(1, '<bundle>');
    const name = parseImageName(this.required(this.image, 'image'));
    const mapOptions = this.mapOptions();
    const progress = layerProgress();
    const layout = await Layout.open(name.layout);
    try {
      const image = await unpackBundle(layout, name.tag, bundle!, { mapOptions, keepDirlinks: this.keepDirlinks, log: this.context.log, onProgress: progress?.update });
      this.context.log.info(`unpacked image ${image.path[image.path.length - 1]!.digest} into bundle ${bundle}`);
    } finally {
      progress?.done();
      await layout.close();
    }
    return 0;
  }
}
