import { Command } from 'clipanion';
import { umountImage } from '../../mount/mount.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag } from '../flags.js';

export class UmountCommand extends BaseCommand {
  static override paths = [['umount']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'unmounts an image mounted by ocikit mount',
    details: 'Refuses a directory that ocikit did not mount. Unmounts DIR, then removes the upper and work directories (the changes made through the mount) and the mount state, unless --keep-upper is given.',
  });
  static override argsUsage = '[--keep-upper] <dir>';

  keepUpper = booleanFlag('keep-upper');

  async execute(): Promise<number> {
    const [dir] = this.positionals(1, '<dir>');
    const r = await umountImage(dir!, { keepUpper: this.keepUpper, log: this.context.log });
    this.context.log.info(`unmounted ${r.mountpoint}${r.upper !== undefined ? `; upper directory kept in ${r.upper}` : ''}`);
    return 0;
  }
}
