import { Command } from 'clipanion';
import { parseImageName } from '../../index.js';
import { loadArchive, type LoadOptions } from '../../archive/load.js';
import { parseArchiveFormat } from '../../archive/save.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class LoadCommand extends BaseCommand {
  static override paths = [['load']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'imports a docker-archive or oci-archive file into an OCI image layout',
    details: 'Stores the image of FILE in the layout (created if missing) and tags it <tag>; without a tag in --image, the archive\'s own (RepoTags of a docker-archive, the index.json name of an oci-archive), else "latest". Layers are checked against the config\'s diff_ids and blobs against their descriptors; on any failure the layout is left as it was.',
  });
  static override argsUsage = '--image <image-path>[:<tag>] <file>';

  image = stringFlag('image');
  format = stringFlag('format');

  async execute(): Promise<number> {
    const [file] = this.positionals(1, '<file>');
    const imageArg = this.required(this.image, 'image');
    const name = parseImageName(imageArg);
    const opts: LoadOptions = {};
    if (imageArg.includes(':')) opts.tag = name.tag;
    if (this.format !== undefined) opts.format = parseArchiveFormat(this.format);
    await loadArchive(file!, name.layout, opts);
    return 0;
  }
}
