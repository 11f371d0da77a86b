import { Command } from 'clipanion';
import { Layout } from '../../index.js';
import { mountImage } from '../../mount/mount.js';
import { booleanFlag } from '../flags.js';
import { SourceCommand } from '../options/source.js';

export class MountCommand extends SourceCommand {
  static override paths = [['mount']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'mounts an image with overlayfs',
    details: 'SOURCE is oci:LAYOUT[:TAG] or docker://REFERENCE (pulled into the cache layout first, as extract does). Each layer is extracted once into a cache beside the layout (LAYOUT/.ocikit) and reused by later mounts; the layers are the lower directories of an overlay mounted on DIR (created if missing), with a fresh upper and work directory in DIR/../.NAME.ocikit. Undo with ocikit umount DIR.',
  });
  static override argsUsage = '[--read-only] <source> <dir>';

  readOnly = booleanFlag('read-only');

  async execute(): Promise<number> {
    const [source, dir] = this.positionals(2, '<source> <dir>');
    const mapOptions = this.mapOptions();
    const platform = this.wantedPlatform();
    const name = await this.sourceImage(source!, { allowNoCache: false });
    const layout = await Layout.open(name.layout);
    try {
      const r = await mountImage(layout, name.tag, dir!, {
        mapOptions,
        readOnly: this.readOnly,
        log: this.context.log,
        onExtract: (i, n) => this.context.log.info(`extracting layer ${i + 1} of ${n}`),
        ...(platform ? { platform } : {}),
      });
      this.context.log.info(`mounted ${r.manifest} on ${r.mountpoint} (${r.layers} layers, ${r.extracted} extracted, ${r.driver})`);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
