import { Command } from 'clipanion';
import { Layout, parseImageName } from '../../../index.js';
import { addTarLayer } from '../../../image/insert.js';
import { parseCompress } from '../../../image/add-layer.js';
import { stringFlag } from '../../flags.js';
import { HistoryCommand } from '../../options/history.js';

export class RawAddLayerCommand extends HistoryCommand {
  static override paths = [['raw', 'add-layer']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'add a layer archive verbatim to an image',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tagged image to add the layer to (if not specified, defaults to "latest"). "<newlayer.tar>" is an uncompressed tar archive, added as it is (compressed per --compress).`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] <newlayer.tar>';

  image = stringFlag('image');
  tag = stringFlag('tag');
  compress = stringFlag('compress');

  async execute(): Promise<number> {
    const [tar] = this.positionals(1, '<newlayer.tar>');
    const name = parseImageName(this.required(this.image, 'image'));
    const history = this.historyOptions();
    const compress = parseCompress(this.compress);
    const layout = await Layout.open(name.layout);
    try {
      await addTarLayer(layout, name.tag, tar!, { tag: this.tag, compress, history });
    } finally {
      await layout.close();
    }
    return 0;
  }
}
