import { Command } from 'clipanion';
import { gc, Layout, parseLayoutPath } from '../../index.js';
import { BaseCommand } from '../base-command.js';
import { stringFlag } from '../flags.js';

export class GcCommand extends BaseCommand {
  static override paths = [['gc']];
  static override usage = Command.Usage({ category: 'layout', description: "garbage-collects an OCI image's blobs", details: 'Removes every blob that no index.json entry reaches, and temporary files left by interrupted writers. Holds the layout lock, so it never removes a blob that a concurrent ocikit writer has just put.' });
  static override argsUsage = '--layout <image-path>';

  layout = stringFlag('layout');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const layout = await Layout.open(parseLayoutPath(this.required(this.layout, 'layout')));
    try {
      const r = await gc(layout);
      for (const d of r.removedBlobs) this.context.log.info(`garbage collected blob: ${d}`);
      this.context.log.info(`removed ${r.removedBlobs.length} blobs (${r.removedBytes} bytes) and ${r.removedTemp.length} temporary files`);
      if (r.removedLayerDirs?.length) this.context.log.info(`removed ${r.removedLayerDirs.length} cached layer directories of ocikit mount`);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
