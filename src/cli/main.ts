/**
 * The CLI's entry: normalise Go-style arguments, find the command, run it,
 * render any failure in one place, and exit 1 on every failure (as umoci does).
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Cli } from 'clipanion';
import { ocikitVersion, IMAGE_SPEC_VERSION, OcikitError, RUNTIME_SPEC_VERSION } from '../index.js';
import { ArgvError, normaliseArgv, type CommandShape } from './argv.js';
import type { BaseCommand, OcikitContext } from './base-command.js';
import { commandHelp, globalHelp, groupHelp, type CommandInfo } from './help.js';
import { parseLogLevel, renderError, StderrLogger, type LogLevel } from './output.js';
/**
 * Every command: its paths and how to load its class. Only the command asked
 * for is imported (start-up time is most of what a small command costs);
 * help imports them all. The paths repeat each class's `static paths`, and a
 * test keeps the two equal.
 */
export const COMMAND_TABLE: Array<{ paths: string[][]; load: () => Promise<typeof BaseCommand> }> = [
  { paths: [['config']], load: async () => (await import('./commands/config.js')).ConfigCommand },
  { paths: [['new']], load: async () => (await import('./commands/new.js')).NewCommand },
  { paths: [['tag']], load: async () => (await import('./commands/tag.js')).TagCommand },
  { paths: [['remove'], ['rm']], load: async () => (await import('./commands/remove.js')).RemoveCommand },
  { paths: [['stat']], load: async () => (await import('./commands/stat.js')).StatCommand },
  { paths: [['gc']], load: async () => (await import('./commands/gc.js')).GcCommand },
  { paths: [['init']], load: async () => (await import('./commands/init.js')).InitCommand },
  { paths: [['list'], ['ls']], load: async () => (await import('./commands/list.js')).ListCommand },
  { paths: [['validate']], load: async () => (await import('./commands/validate.js')).ValidateCommand },
  { paths: [['unpack']], load: async () => (await import('./commands/unpack.js')).UnpackCommand },
  { paths: [['repack']], load: async () => (await import('./commands/repack.js')).RepackCommand },
  { paths: [['insert']], load: async () => (await import('./commands/insert.js')).InsertCommand },
  { paths: [['raw', 'unpack']], load: async () => (await import('./commands/raw/unpack.js')).RawUnpackCommand },
  { paths: [['raw', 'add-layer']], load: async () => (await import('./commands/raw/add-layer.js')).RawAddLayerCommand },
  { paths: [['raw', 'runtime-config'], ['raw', 'config']], load: async () => (await import('./commands/raw/runtime-config.js')).RawRuntimeConfigCommand },
  { paths: [['raw', 'mtree-validate']], load: async () => (await import('./commands/raw/mtree-validate.js')).RawMtreeValidateCommand },
  { paths: [['pull']], load: async () => (await import('./commands/pull.js')).PullCommand },
  { paths: [['push']], load: async () => (await import('./commands/push.js')).PushCommand },
  { paths: [['inspect']], load: async () => (await import('./commands/inspect.js')).InspectCommand },
  { paths: [['digest']], load: async () => (await import('./commands/digest.js')).DigestCommand },
  { paths: [['tags']], load: async () => (await import('./commands/tags.js')).TagsCommand },
  { paths: [['login']], load: async () => (await import('./commands/login.js')).LoginCommand },
  { paths: [['logout']], load: async () => (await import('./commands/logout.js')).LogoutCommand },
  { paths: [['extract']], load: async () => (await import('./commands/extract.js')).ExtractCommand },
  { paths: [['mount']], load: async () => (await import('./commands/mount.js')).MountCommand },
  { paths: [['umount']], load: async () => (await import('./commands/umount.js')).UmountCommand },
  { paths: [['save']], load: async () => (await import('./commands/save.js')).SaveCommand },
  { paths: [['load']], load: async () => (await import('./commands/load.js')).LoadCommand },
];


/** A clipanion instance with `classes` registered, and what help and argv.ts need of them. */
function buildCli(prog: string, classes: Array<typeof BaseCommand>): { cli: Cli<OcikitContext>; infos: CommandInfo[] } {
  const cli = new Cli<OcikitContext>({ binaryName: prog, enableColors: false });
  for (const c of classes) cli.register(c as unknown as Parameters<typeof cli.register>[0]);
  // definitions() lists the registered classes in order, with their options.
  const infos = cli.definitions().map((d, i) => ({
    cls: classes[i]!,
    paths: classes[i]!.paths as string[][],
    options: d.options
      .filter((o) => o.definition.startsWith('--'))
      .map((o) => {
        const [name, arity] = o.definition.split(' ');
        return { internal: name!.slice(2), takesValue: arity !== undefined, description: o.description ?? '' };
      }),
  }));
  return { cli, infos };
}

/**
 * Building clipanion's parser costs time per registered option, so only the
 * command asked for is loaded and registered; the whole set only to print
 * the global help.
 */
function shapeOf(entry: (typeof COMMAND_TABLE)[number], prog: string): CommandShape & { built: () => Promise<ReturnType<typeof buildCli>> } {
  let built: ReturnType<typeof buildCli> | undefined;
  const build = async (): Promise<ReturnType<typeof buildCli>> => (built ??= buildCli(prog, [await entry.load()]));
  return {
    paths: entry.paths,
    options: async () => new Map((await build()).infos[0]!.options.map((o) => [o.internal, o.takesValue])),
    built: build,
  };
}

async function allCommands(prog: string): Promise<CommandInfo[]> {
  return buildCli(prog, await Promise.all(COMMAND_TABLE.map((e) => e.load()))).infos;
}

export async function main(argv: string[], prog: string): Promise<number> {
  let level: LogLevel = 'warn';
  let commandName = '';
  try {
    const shapes = COMMAND_TABLE.map((e) => shapeOf(e, prog));
    const n = await normaliseArgv(argv, shapes);
    level = parseLogLevel(n.globals.log, n.globals.verbose);
    if (n.globals.cpuProfile !== undefined) await startProfile(n.globals.cpuProfile);
    if (n.globals.version) {
      process.stdout.write(`${prog} version ${ocikitVersion()}\nimage spec: ${IMAGE_SPEC_VERSION}\nruntime spec: ${RUNTIME_SPEC_VERSION}\nnode: ${process.version}\n`);
      return 0;
    }
    if (n.unknown !== undefined) throw new OcikitError('USAGE', `no such command: ${n.unknown.join(' ')} (see ${prog} --help)`);
    commandName = n.path.join(' ');
    const shape = shapes.find((sh) => sh === n.command);
    if (shape === undefined || n.globals.help) {
      const all = await allCommands(prog);
      process.stdout.write(n.commandHelp && n.path.length > 0 && !n.globals.help ? groupHelp(prog, n.path, all) : globalHelp(prog, ocikitVersion(), all));
      return 0;
    }
    const { cli, infos } = await shape.built();
    if (n.commandHelp) {
      process.stdout.write(commandHelp(prog, infos[0]!));
      return 0;
    }
    const context: OcikitContext = { ...Cli.defaultContext, log: new StderrLogger(level), prog };
    const command = cli.process(n.argv, context);
    command.context = context;
    return (await command.validateAndExecute()) ?? 0;
  } catch (err) {
    if (err instanceof ArgvError) commandName = err.path.join(' ');
    process.stderr.write(renderError(prog, commandName, err, level));
    return 1;
  } finally {
    await stopProfile();
  }
}

// --cpu-profile FILE: a V8 CPU profile, umoci's hidden pprof flag in Node terms.
let profile: { file: string; session: import('node:inspector').Session } | undefined;
async function startProfile(file: string): Promise<void> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  await new Promise<void>((res, rej) => session.post('Profiler.enable', () => session.post('Profiler.start', (e) => (e ? rej(e) : res()))));
  profile = { file, session };
}
async function stopProfile(): Promise<void> {
  if (profile === undefined) return;
  const { file, session } = profile;
  profile = undefined;
  await new Promise<void>((res) => session.post('Profiler.stop', (e, r) => {
    if (!e) writeFileSync(file, JSON.stringify(r.profile));
    res();
  }));
}

export function programName(argv1: string | undefined): string {
  return argv1 === undefined ? 'ocikit' : basename(argv1);
}
