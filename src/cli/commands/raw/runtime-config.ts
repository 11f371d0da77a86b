import { writeFile } from 'node:fs/promises';
import { Command } from 'clipanion';
import { Layout, OcikitError, parseImageName } from '../../../index.js';
import { errnoCode } from '../../../errors.js';
import { resolveImage } from '../../../bundle/unpack.js';
import { runtimeConfig } from '../../../runtime/convert.js';
import { encodeRuntimeConfig } from '../../../runtime/encode.js';
import { stringFlag } from '../../flags.js';
import { MapCommand } from '../../options/mapping.js';

export class RawRuntimeConfigCommand extends MapCommand {
  static override paths = [['raw', 'runtime-config'], ['raw', 'config']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'generates an OCI runtime configuration for an image',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tagged image (if not specified, defaults to "latest"). "<config.json>" is the file to write. Without --rootfs, user and group names cannot be resolved.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] [--rootfs <rootfs>] <config.json>';

  image = stringFlag('image');
  rootfs = stringFlag('rootfs');

  async execute(): Promise<number> {
    const [out] = this.positionals(1, '<config.json>');
    const name = parseImageName(this.required(this.image, 'image'));
    const mapOptions = this.mapOptions();
    const layout = await Layout.open(name.layout);
    let text: string;
    try {
      const image = await layout.withLock('content', 'shared', () => resolveImage(layout, name.tag));
      text = encodeRuntimeConfig(await runtimeConfig(image.config, { rootfs: this.rootfs, mapOptions, log: this.context.log }));
    } finally {
      await layout.close();
    }
    await writeFile(out!, text).catch((err: unknown) => {
      throw new OcikitError('IO', `cannot write ${out}: ${errnoCode(err) ?? (err as Error).message}`);
    });
    return 0;
  }
}
