import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { isIndexType } from '../../oci/media-types.js';
import { hostPlatform } from '../../oci/platform.js';
import type { ImageConfig, Index, Manifest } from '../../oci/types.js';
import { availablePlatforms, choosePlatform, dockerConfigToOci, formatPlatform, parseManifestJson, parsePlatform } from '../../registry/manifests.js';
import { familiarReference, formatReference } from '../../registry/reference.js';
import { fetchSmall } from '../../registry/pull.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { RegistryCommand } from '../options/registry.js';

export class InspectCommand extends RegistryCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'prints what a registry holds for a reference, without pulling it',
    details: 'Prints a summary of the image as skopeo inspect does (name, digest, tags, created, platform, labels, layers, environment). --raw prints the manifest (or index) as the registry sends it; --config prints the image config (raw with --raw). From an index, the image for --platform (default: this host) is described.',
  });
  static override argsUsage = '<reference>';

  raw = booleanFlag('raw');
  config = booleanFlag('config');
  platform = stringFlag('platform');

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<reference>');
    const ref = this.reference(text!);
    const repo = await this.repository(ref);
    try {
      const label = familiarReference(ref);
      const top = await repo.getManifest(ref.digest ?? ref.tag!, label);
      if (this.raw && !this.config) {
        this.context.stdout.write(top.bytes);
        return 0;
      }
      let manifest = parseManifestJson(top.bytes, top.mediaType, `manifest ${label}`);
      if (isIndexType(top.mediaType)) {
        const want = this.platform !== undefined ? parsePlatform(this.platform) : hostPlatform();
        const entry = choosePlatform(manifest as Index, want, want.variant !== undefined && this.platform !== undefined);
        if (entry === undefined) throw new OcikitError('REGISTRY', `${label} has no image for ${formatPlatform(want)} (available: ${availablePlatforms(manifest as Index)})`);
        const child = await repo.getManifest(entry.digest, `${label}@${entry.digest}`);
        manifest = parseManifestJson(child.bytes, child.mediaType, `manifest ${label}@${entry.digest}`);
      }
      const m = manifest as Manifest;
      const configBytes = await fetchSmall(repo, m.config);
      if (this.config) {
        if (this.raw) this.context.stdout.write(configBytes);
        // As skopeo: the config as image-spec's struct (Docker-only fields dropped), indented.
        else this.out(`${JSON.stringify(JSON.parse(dockerConfigToOci(configBytes, `config ${m.config.digest}`).toString('utf8')), null, 4)}\n`);
        return 0;
      }
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig & { docker_version?: string; variant?: string };
      const tags = await repo.listTags().catch(() => [] as string[]);
      const summary: Record<string, unknown> = {
        Name: formatReference({ registry: ref.registry, repository: ref.repository }),
        Digest: top.digest,
        RepoTags: tags,
        Created: config.created ?? null,
        DockerVersion: config.docker_version ?? '',
        Labels: config.config?.Labels ?? null,
        Architecture: config.architecture ?? '',
      };
      if (config.variant) summary['Variant'] = config.variant;
      summary['Os'] = config.os ?? '';
      summary['Layers'] = m.layers.map((l) => l.digest);
      summary['LayersData'] = m.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ?? null }));
      summary['Env'] = config.config?.Env ?? null;
      this.out(`${JSON.stringify(summary, null, 4)}\n`);
    } finally {
      repo.client.close();
    }
    return 0;
  }
}

