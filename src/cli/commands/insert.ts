import { Command } from 'clipanion';
import { Layout, parseImageName } from '../../index.js';
import { insertLayer } from '../../image/insert.js';
import { parseCompress } from '../../image/add-layer.js';
import { mapOptionsFrom } from '../../runtime/id-map.js';
import { arrayFlag, booleanFlag, stringFlag } from '../flags.js';
import { HistoryCommand } from '../options/history.js';

export class InsertCommand extends HistoryCommand {
  static override paths = [['insert']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'insert content into an OCI image',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tag that the content will be inserted into (if not specified, defaults to "latest"). The path at "<source>" is added to the image with the given "<target>" name; with --whiteout a removal entry for "<target>" is inserted instead; with --opaque whatever lower layers had below "<target>" is hidden.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] [--opaque] <source> <target>\n--image <image-path>[:<tag>] [--whiteout] <target>';

  image = stringFlag('image');
  tag = stringFlag('tag');
  compress = stringFlag('compress');
  whiteout = booleanFlag('whiteout');
  opaque = booleanFlag('opaque');
  rootless = booleanFlag('rootless');
  uidMap = arrayFlag('uid-map');
  gidMap = arrayFlag('gid-map');

  async execute(): Promise<number> {
    const args = this.positionals(this.whiteout ? 1 : 2, this.whiteout ? '1' : '2');
    const name = parseImageName(this.required(this.image, 'image'));
    const history = this.historyOptions();
    const compress = parseCompress(this.compress);
    const mapOptions = mapOptionsFrom({ rootless: this.rootless, uidMap: this.uidMap ?? [], gidMap: this.gidMap ?? [] });
    const [source, target] = this.whiteout ? [undefined, args[0]!] : [args[0]!, args[1]!];
    const layout = await Layout.open(name.layout);
    try {
      await insertLayer(layout, name.tag, { source, target, whiteout: this.whiteout, opaque: this.opaque, tag: this.tag, compress, history, mapOptions, log: this.context.log });
    } finally {
      await layout.close();
    }
    return 0;
  }
}
