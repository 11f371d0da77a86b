import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { Layout, parseImageName } from '../../index.js';
import { mountImage } from '../../mount/mount.js';
import { parsePlatform } from '../../registry/manifests.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { MapCommand } from '../options/mapping.js';

/** `oci:LAYOUT[:TAG]` or plain `LAYOUT[:TAG]`; registry sources are for extract and pull. */
function parseSource(source: string): { layout: string; tag: string } {
  if (/^[a-z0-9+.-]+:\/\//i.test(source)) {
    throw new OcikitError('USAGE', `mount reads images from a local layout only (oci:LAYOUT[:TAG]), not ${JSON.stringify(source)}`, {
      hint: 'pull the image into a layout first with ocikit pull',
    });
  }
  return parseImageName(source.startsWith('oci:') ? source.slice(4) : source);
}

export class MountCommand extends MapCommand {
  static override paths = [['mount']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'mounts an image with overlayfs',
    details: 'SOURCE is oci:LAYOUT[:TAG]. Each layer is extracted once into a cache beside the layout (LAYOUT/.ocikit) and reused by later mounts; the layers are the lower directories of an overlay mounted on DIR (created if missing), with a fresh upper and work directory in DIR/../.NAME.ocikit. Undo with ocikit umount DIR.',
  });
  static override argsUsage = '[--read-only] <source> <dir>';

  readOnly = booleanFlag('read-only');
  platform = stringFlag('platform');

  async execute(): Promise<number> {
    const [source, dir] = this.positionals(2, '<source> <dir>');
    const name = parseSource(source!);
    const mapOptions = this.mapOptions();
    const platform = this.platform !== undefined ? parsePlatform(this.platform) : undefined;
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
