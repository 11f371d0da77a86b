import { Command } from 'clipanion';
import { Layout, parseLayoutPath } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class InitCommand extends BaseCommand {
  static override paths = [['init']];
  static override usage = Command.Usage({ category: 'layout', description: 'create a new OCI layout', details: 'Creates a new OCI image layout at <image-path>, which must not exist yet (its parents are created). The layout is built beside it and renamed into place, so it appears complete or not at all.' });
  static override argsUsage = '--layout <image-path>';

  layout = stringFlag('layout');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    await Layout.create(parseLayoutPath(this.required(this.layout, 'layout')));
    return 0;
  }
}
