/**
 * The SOURCE of extract and mount: `oci:LAYOUT[:TAG]`, or
 * `docker://REFERENCE` pulled first into a cache layout (`--cache`, default
 * $XDG_CACHE_HOME/ocikit, /var/cache/ocikit for root) under a tag per
 * reference and platform, so concurrent runs for other platforms never move
 * it. Also the flags both commands share (platform, id mapping).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OcikitError } from '../../errors.js';
import { parseImageName } from '../../oci/refname.js';
import { hostPlatform, type HostPlatform } from '../../oci/platform.js';
import { mapOptionsFrom, type MapOptions } from '../../runtime/id-map.js';
import { formatPlatform, parsePlatform } from '../../registry/manifests.js';
import { makeProgress } from '../../registry/progress.js';
import { pullImage } from '../../registry/pull.js';
import { formatReference } from '../../registry/reference.js';
import { arrayFlag, booleanFlag, stringFlag } from '../flags.js';
import { RegistryCommand } from './registry.js';

/** Where docker:// sources are cached: $XDG_CACHE_HOME/ocikit, or /var/cache/ocikit for root. */
export function defaultCache(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/cache/ocikit';
  return join(env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache'), 'ocikit');
}

export interface SourceImage {
  layout: string;
  tag: string;
  /** Removes a temporary layout (--cache=no); a no-op otherwise. */
  cleanup: () => Promise<void>;
}

export abstract class SourceCommand extends RegistryCommand {
  platform = stringFlag('platform');
  cache = stringFlag('cache');
  rootless = booleanFlag('rootless');
  uidMap = arrayFlag('uid-map');
  gidMap = arrayFlag('gid-map');

  protected mapOptions(): MapOptions {
    return mapOptionsFrom({ rootless: this.rootless, uidMap: this.uidMap ?? [], gidMap: this.gidMap ?? [] });
  }

  protected wantedPlatform(): HostPlatform | undefined {
    return this.platform !== undefined ? parsePlatform(this.platform) : undefined;
  }

  /** The layout and tag SOURCE names, pulling a docker:// source into the cache first. */
  protected async sourceImage(source: string, opts: { allowNoCache: boolean }): Promise<SourceImage> {
    if (source.startsWith('oci:')) {
      const name = parseImageName(source.slice(4));
      return { layout: name.layout, tag: name.tag, cleanup: async () => undefined };
    }
    if (!source.startsWith('docker://')) {
      throw new OcikitError('USAGE', `invalid source ${JSON.stringify(source)}: expected oci:LAYOUT[:TAG] or docker://REFERENCE`);
    }
    const ref = this.reference(source);
    const platform = this.wantedPlatform();
    let layout: string;
    let cleanup = async (): Promise<void> => undefined;
    if (this.cache === 'no') {
      if (!opts.allowNoCache) throw new OcikitError('USAGE', '--cache=no is not possible here: the layers must stay in a layout');
      const dir = await mkdtemp(join(tmpdir(), 'ocikit-source-'));
      layout = join(dir, 'layout');
      cleanup = () => rm(dirname(layout), { recursive: true, force: true });
    } else {
      layout = this.cache ?? defaultCache();
    }
    const tag = `${formatReference(ref)}+${formatPlatform(platform ?? hostPlatform()).replace(/\//g, '-')}`;
    const tty = (this.context.stderr as { isTTY?: boolean }).isTTY === true;
    const progress = makeProgress(tty ? 'tty' : 'quiet', this.context.stdout, this.context.stderr);
    try {
      await this.transfer(ref, progress, (repo) => pullImage(repo, ref, layout, { tag, ...(platform ? { platform } : {}), progress }));
    } catch (err) {
      await cleanup();
      throw err;
    }
    return { layout, tag, cleanup };
  }
}
