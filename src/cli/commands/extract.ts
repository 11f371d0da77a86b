import { Command } from 'clipanion';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcikitError } from '../../errors.js';
import { Layout, parseImageName } from '../../index.js';
import { extractImage } from '../../bundle/extract.js';
import { hostPlatform } from '../../oci/platform.js';
import { mapOptionsFrom } from '../../runtime/id-map.js';
import { formatPlatform, parsePlatform } from '../../registry/manifests.js';
import { makeProgress } from '../../registry/progress.js';
import { pullImage } from '../../registry/pull.js';
import { formatReference } from '../../registry/reference.js';
import { arrayFlag, booleanFlag, stringFlag } from '../flags.js';
import { layerProgress } from '../options/progress.js';
import { RegistryCommand } from '../options/registry.js';

/** Where docker:// sources are cached: $XDG_CACHE_HOME/ocikit, or /var/cache/ocikit for root. */
export function defaultCache(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/cache/ocikit';
  return join(env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache'), 'ocikit');
}

export class ExtractCommand extends RegistryCommand {
  static override paths = [['extract']];
  static override usage = Command.Usage({
    category: 'image',
    description: "flattens an image's layers into a directory",
    details: 'SOURCE is oci:LAYOUT[:TAG] or docker://REFERENCE (pulled through a cache layout first). The tree is built beside DIR and moved into place once complete; a non-empty DIR is replaced only with --force. No bundle, config.json or mtree is written.',
  });
  static override argsUsage = '<source> <dir>';

  force = booleanFlag('force');
  platform = stringFlag('platform');
  cache = stringFlag('cache');
  rootless = booleanFlag('rootless');
  uidMap = arrayFlag('uid-map');
  gidMap = arrayFlag('gid-map');

  async execute(): Promise<number> {
    const [source, dir] = this.positionals(2, '<source> <dir>');
    const mapOptions = mapOptionsFrom({ rootless: this.rootless, uidMap: this.uidMap ?? [], gidMap: this.gidMap ?? [] });
    const platform = this.platform !== undefined ? parsePlatform(this.platform) : undefined;
    let layoutPath: string;
    let tag: string;
    let scratch: string | undefined;
    if (source!.startsWith('oci:')) {
      const name = parseImageName(source!.slice(4));
      layoutPath = name.layout;
      tag = name.tag;
    } else if (source!.startsWith('docker://')) {
      const ref = this.reference(source!);
      if (this.cache === 'no') layoutPath = scratch = join(await mkdtemp(join(tmpdir(), 'ocikit-extract-')), 'layout');
      else layoutPath = this.cache ?? defaultCache();
      // One cache tag per reference and platform, so concurrent extracts of other platforms do not move it.
      tag = `${formatReference(ref)}+${formatPlatform(platform ?? hostPlatform()).replace(/\//g, '-')}`;
      const tty = (this.context.stderr as { isTTY?: boolean }).isTTY === true;
      const progress = makeProgress(tty ? 'tty' : 'quiet', this.context.stdout, this.context.stderr);
      const repo = await this.repository(ref, (m) => progress.note(m));
      const offSignals = this.onSignals();
      try {
        await pullImage(repo, ref, layoutPath, { tag, ...(platform ? { platform } : {}), progress });
      } catch (err) {
        if (scratch !== undefined) await rm(join(scratch, '..'), { recursive: true, force: true });
        throw err;
      } finally {
        offSignals();
        progress.finish();
        repo.client.close();
      }
    } else {
      throw new OcikitError('USAGE', `invalid source ${JSON.stringify(source)}: expected oci:LAYOUT[:TAG] or docker://REFERENCE`);
    }
    const progress = layerProgress();
    const layout = await Layout.open(layoutPath);
    try {
      await extractImage(layout, tag, dir!, { mapOptions, force: this.force, log: this.context.log, onProgress: progress?.update, ...(platform ? { platform } : {}) });
    } finally {
      progress?.done();
      await layout.close();
      if (scratch !== undefined) await rm(join(scratch, '..'), { recursive: true, force: true });
    }
    return 0;
  }
}
