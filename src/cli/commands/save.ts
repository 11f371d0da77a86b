import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { parseImageName } from '../../index.js';
import { defaultArchiveName } from '../../archive/docker-name.js';
import { parseArchiveFormat, saveImage } from '../../archive/save.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class SaveCommand extends BaseCommand {
  static override paths = [['save']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'writes an image to a docker-archive or oci-archive file',
    details: 'Writes the image <tag> names as a docker-archive (for docker load, podman load, skopeo copy docker-archive:) or, with --format oci-archive, as a tar of an image layout holding just that image. FILE defaults to <repo>-<tag>.tar (the layout directory\'s name and the tag); "-" writes to standard output. The file appears only once the archive is complete.',
  });
  static override argsUsage = '--image <image-path>[:<tag>] [--format docker-archive|oci-archive] [<file>]';

  image = stringFlag('image');
  format = stringFlag('format');

  async execute(): Promise<number> {
    if (this.args.length > 1) throw new OcikitError('USAGE', 'invalid number of positional arguments: expected [<file>]');
    const name = parseImageName(this.required(this.image, 'image'));
    const format = parseArchiveFormat(this.format ?? 'docker-archive');
    const file = this.args[0] ?? defaultArchiveName(name.layout, name.tag);
    if (file === '') throw new OcikitError('USAGE', 'invalid file name: empty');
    const interrupt = new AbortController();
    const stop = (): void => interrupt.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await saveImage(name.layout, name.tag, file === '-' ? this.context.stdout : file, { format, signal: interrupt.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  }
}
