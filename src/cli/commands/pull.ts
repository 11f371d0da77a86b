import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { parseImageName } from '../../index.js';
import { parsePlatform } from '../../registry/manifests.js';
import { makeProgress, progressMode } from '../../registry/progress.js';
import { pullImage, type PullOptions } from '../../registry/pull.js';
import { familiarReference } from '../../registry/reference.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { RegistryCommand } from '../options/registry.js';

export class PullCommand extends RegistryCommand {
  static override paths = [['pull']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'pulls an image from a registry into an OCI image layout',
    details: 'Fetches REFERENCE (e.g. "alpine:3.20", "ghcr.io/o/r@sha256:…") into the layout, creating it if needed, and tags it (default: the reference\'s tag). Blobs the layout already has are not fetched again. Docker media types are converted to OCI unless --preserve-digests is given.',
  });
  static override argsUsage = '--image <image-path>[:<tag>] <reference>';

  image = stringFlag('image');
  platform = stringFlag('platform');
  allPlatforms = booleanFlag('all-platforms');
  parallelDownloads = stringFlag('parallel-downloads');
  validateCache = booleanFlag('validate-cache');
  preserveDigests = booleanFlag('preserve-digests');
  quiet = booleanFlag('quiet');
  json = booleanFlag('json');

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<reference>');
    const ref = this.reference(text!);
    const imageArg = this.required(this.image, 'image');
    const name = parseImageName(imageArg);
    const tag = imageArg.includes(':') ? name.tag : (ref.tag ?? name.tag);
    if (this.platform !== undefined && this.allPlatforms) throw new OcikitError('USAGE', '--platform and --all-platforms are mutually exclusive');
    const opts: PullOptions = {
      tag,
      allPlatforms: this.allPlatforms,
      parallel: this.count(this.parallelDownloads, 'parallel-downloads', 4, 1),
      validateCache: this.validateCache,
      preserveDigests: this.preserveDigests,
    };
    if (this.platform !== undefined) opts.platform = parsePlatform(this.platform);
    const progress = makeProgress(progressMode(this, this.context.stderr), this.context.stdout, this.context.stderr);
    opts.progress = progress;
    const result = await this.transfer(ref, progress, (repo) => pullImage(repo, ref, name.layout, opts));
    const fields = { reference: familiarReference(ref), image: `${name.layout}:${tag}`, digest: result.descriptor.digest, mediaType: result.descriptor.mediaType, fetched: result.fetched, present: result.present, bytes: result.bytes };
    progress.event('done', fields);
    if (!this.quiet && !this.json) this.context.stderr.write(`Stored ${fields.reference} as ${fields.image} (${result.descriptor.digest})\n`);
    return 0;
  }
}
