import { Command } from 'clipanion';
import { parseImageName } from '../../index.js';
import { makeProgress, progressMode } from '../../registry/progress.js';
import { pushImage } from '../../registry/push.js';
import { familiarReference } from '../../registry/reference.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { RegistryCommand } from '../options/registry.js';

export class PushCommand extends RegistryCommand {
  static override paths = [['push']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'pushes an image from an OCI image layout to a registry',
    details: 'Uploads the blobs the registry lacks (asking first, and mounting from another repository of the same registry when one is known to hold a blob), then the manifests, the tagged one last. Prints the digest of the pushed manifest (or index).',
  });
  static override argsUsage = '--image <image-path>[:<tag>] <reference>';

  image = stringFlag('image');
  chunkSize = stringFlag('chunk-size');
  parallelUploads = stringFlag('parallel-uploads');
  quiet = booleanFlag('quiet');
  json = booleanFlag('json');

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<reference>');
    const ref = this.reference(text!);
    const name = parseImageName(this.required(this.image, 'image'));
    const progress = makeProgress(progressMode(this, this.context.stderr), this.context.stdout, this.context.stderr);
    const chunkSize = this.count(this.chunkSize, 'chunk-size', 0);
    const parallel = this.count(this.parallelUploads, 'parallel-uploads', 4, 1);
    const result = await this.transfer(ref, progress, (repo) => pushImage(repo, ref, name.layout, name.tag, { chunkSize, parallel, progress }));
    if (this.json) progress.event('done', { reference: familiarReference(ref), digest: result.descriptor.digest, mediaType: result.descriptor.mediaType, uploaded: result.uploaded, mounted: result.mounted, existed: result.existed });
    else this.out(`${result.descriptor.digest}\n`);
    return 0;
  }
}
