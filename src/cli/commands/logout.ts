import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { loginFile, removeCredentials } from '../../registry/credential-store.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag, stringFlag } from '../flags.js';
import { registryArgument } from './login.js';

export class LogoutCommand extends BaseCommand {
  static override paths = [['logout']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'removes stored credentials for a registry',
    details: 'Removes what login stored for <registry> (or, with --all, for every registry) from the credentials file or its credential helper. Fails when nothing was stored, as skopeo logout does.',
  });
  static override argsUsage = '<registry> | --all';

  authfile = stringFlag('authfile');
  all = booleanFlag('all');

  async execute(): Promise<number> {
    if (this.all) {
      if (this.args.length > 0) throw new OcikitError('USAGE', '--all takes no registry argument');
      await removeCredentials(undefined, this.authfile);
      this.out('Removed login credentials for all registries\n');
      return 0;
    }
    const [text] = this.positionals(1, '<registry>');
    const registry = registryArgument(text!);
    if (!(await removeCredentials(registry, this.authfile))) {
      throw new OcikitError('AUTH', `not logged in to ${registry} (in ${loginFile(this.authfile)})`);
    }
    this.out(`Removed login credentials for ${registry}\n`);
    return 0;
  }
}
