import { mapOptionsFrom, type MapOptions } from '../../runtime/id-map.js';
import { BaseCommand } from '../base-command.js';
import { arrayFlag, booleanFlag } from '../flags.js';

/** umoci's map flag group (--rootless, --uid-map, --gid-map) for commands that need nothing else shared. */
export abstract class MapCommand extends BaseCommand {
  rootless = booleanFlag('rootless');
  uidMap = arrayFlag('uid-map');
  gidMap = arrayFlag('gid-map');

  protected mapOptions(): MapOptions {
    return mapOptionsFrom({ rootless: this.rootless, uidMap: this.uidMap ?? [], gidMap: this.gidMap ?? [] });
  }
}
