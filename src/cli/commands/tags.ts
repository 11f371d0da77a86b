import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { booleanFlag } from '../flags.js';
import { RegistryCommand } from '../options/registry.js';

export class TagsCommand extends RegistryCommand {
  static override paths = [['tags']];
  static override usage = Command.Usage({
    category: 'registry',
    description: "lists a remote repository's tags",
    details: 'Prints one tag per line, following the registry\'s pages (Link headers). With --json, prints {"Repository": …, "Tags": […]} as skopeo list-tags does.',
  });
  static override argsUsage = '<repository>';

  json = booleanFlag('json');

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<repository>');
    const ref = this.reference(text!);
    if (ref.digest !== undefined || text!.split('/').pop()!.includes(':')) {
      throw new OcikitError('USAGE', `tags takes a repository without a tag or digest: ${JSON.stringify(text)}`);
    }
    const repo = await this.repository(ref);
    try {
      const tags = await repo.listTags();
      if (this.json) {
        const name = `${ref.registry}/${ref.repository}`;
        this.out(`${JSON.stringify({ Repository: name, Tags: tags }, null, 4)}\n`);
      } else if (tags.length > 0) this.out(`${tags.join('\n')}\n`);
    } finally {
      repo.client.close();
    }
    return 0;
  }
}
