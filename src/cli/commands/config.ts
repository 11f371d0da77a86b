import { access, constants, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command } from 'clipanion';
import { configImage, Layout, OcikitError, parseImageName, type ConfigEdits } from '../../index.js';
import { arrayFlag, stringFlag } from '../flags.js';
import { HistoryCommand } from '../options/history.js';

export class ConfigCommand extends HistoryCommand {
  static override paths = [['config']];
  static override usage = Command.Usage({
    category: 'image',
    description: 'modifies the image configuration of an OCI image',
    details: `Where "<image-path>" is the path to the OCI image, and "<tag>" is the name of the tagged image from which the config modifications will be based (if not specified, it defaults to "latest"). "<new-tag>" is the new reference name to save the new image as; if it is not given the old tag is replaced.`,
  });
  static override argsUsage = '--image <image-path>[:<tag>] [--tag <new-tag>]';

  image = stringFlag('image');
  tag = stringFlag('tag');
  clear = arrayFlag('clear');
  user = stringFlag('config.user');
  exposedPorts = arrayFlag('config.exposedports');
  env = arrayFlag('config.env');
  entrypoint = arrayFlag('config.entrypoint');
  cmd = arrayFlag('config.cmd');
  volume = arrayFlag('config.volume');
  label = arrayFlag('config.label');
  workingDir = stringFlag('config.workingdir');
  stopSignal = stringFlag('config.stopsignal');
  created = stringFlag('created');
  author = stringFlag('author');
  os = stringFlag('platform.os');
  arch = stringFlag('platform.arch');
  variant = stringFlag('platform.variant');
  annotation = arrayFlag('manifest.annotation');
  save = stringFlag('save');

  async execute(): Promise<number> {
    this.positionals(0, 'none');
    const name = parseImageName(this.required(this.image, 'image'));
    const history = this.historyOptions();
    const edits: ConfigEdits = {
      clear: this.clear,
      user: this.user,
      exposedPorts: this.exposedPorts,
      env: this.env,
      entrypoint: this.entrypoint,
      cmd: this.cmd,
      volumes: this.volume,
      labels: this.label,
      workingDir: this.workingDir,
      stopSignal: this.stopSignal,
      created: this.created,
      author: this.author,
      os: this.os,
      architecture: this.arch,
      variant: this.variant,
      manifestAnnotations: this.annotation,
    };
    // Bad input must leave the layout as it was: check --save before committing anything.
    if (this.save !== undefined) {
      await access(dirname(resolve(this.save)), constants.W_OK).catch((err: unknown) => {
        throw new OcikitError('USAGE', `--save: cannot write ${this.save}: ${(err as Error).message}`);
      });
    }
    const layout = await Layout.open(name.layout);
    try {
      const r = await configImage(layout, name.tag, { edits, tag: this.tag, history });
      this.context.log.info(`new image manifest created: ${r.path[0]!.digest}`);
      if (this.save !== undefined) await writeFile(this.save, r.configBytes);
    } finally {
      await layout.close();
    }
    return 0;
  }
}
