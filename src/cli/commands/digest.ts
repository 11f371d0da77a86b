import { Command } from 'clipanion';
import { familiarReference } from '../../registry/reference.js';
import { RegistryCommand } from '../options/registry.js';

export class DigestCommand extends RegistryCommand {
  static override paths = [['digest']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'prints the digest of a remote manifest',
    details: 'Asks the registry with HEAD (which Docker Hub does not count against pull limits), and falls back to GET and hashing the bytes when the registry gives no digest. For a multi-platform image this is the digest of the index.',
  });
  static override argsUsage = '<reference>';

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<reference>');
    const ref = this.reference(text!);
    const repo = await this.repository(ref);
    try {
      const label = familiarReference(ref);
      if (ref.digest !== undefined) {
        // Check that it exists (and is what it says), as HEAD on a digest would.
        const m = await repo.getManifest(ref.digest, label);
        this.out(`${m.digest}\n`);
        return 0;
      }
      const digest = (await repo.headManifestDigest(ref.tag!, label)) ?? (await repo.getManifest(ref.tag!, label)).digest;
      this.out(`${digest}\n`);
    } finally {
      repo.client.close();
    }
    return 0;
  }
}
