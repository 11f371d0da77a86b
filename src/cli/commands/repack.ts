import { Command } from 'clipanion';
import { Layout, parseImageName } from '../../index.js';
import { repackBundle } from '../../bundle/repack.js';
import { parseCompress } from '../../image/add-layer.js';
import { arrayFlag, booleanFlag, stringFlag } from '../flags.js';
import { HistoryCommand } from '../options/history.js';
import { repackProgress } from '../options/progress.js';

export class RepackCommand extends HistoryCommand {
  static override paths = [['repack']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'repacks an OCI runtime bundle into a reference',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tag to save the repacked image as (if not specified, defaults to "latest"). "<bundle>" is a bundle made by unpack: the changes in its rootfs become one new layer on the image it was unpacked from.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] <bundle>';

  image = stringFlag('image');
  compress = stringFlag('compress');
  maskPath = arrayFlag('mask-path');
  noMaskVolumes = booleanFlag('no-mask-volumes');
  refreshBundle = booleanFlag('refresh-bundle');

  async execute(): Promise<number> {
    const [bundle] = this.positionals(1, '<bundle>');
    const name = parseImageName(this.required(this.image, 'image'));
    const history = this.historyOptions();
    const compress = parseCompress(this.compress);
    const progress = repackProgress();
    const layout = await Layout.open(name.layout);
    try {
      const r = await repackBundle(layout, name.tag, bundle!, {
        compress,
        history,
        maskPaths: this.maskPath ?? [],
        noMaskVolumes: this.noMaskVolumes,
        refreshBundle: this.refreshBundle,
        log: this.context.log,
        onProgress: progress?.update,
      });
      this.context.log.info(`new image manifest created: ${r.path[r.path.length - 1]!.digest} (${r.changes.length} changes)`);
    } finally {
      progress?.done();
      await layout.close();
    }
    return 0;
  }
}
