/**
 * The CLI's entry: normalise Go-style arguments, find the command, run it,
 * render any failure in one place, and exit 1 on every failure (as umoci does).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Cli } from 'clipanion';
import { IMAGE_SPEC_VERSION, OcikitError, RUNTIME_SPEC_VERSION } from '../index.js';
import { normaliseArgv, type CommandShape } from './argv.js';
import type { BaseCommand, OcikitContext } from './base-command.js';
import { commandHelp, globalHelp, groupHelp, type CommandInfo } from './help.js';
import { parseLogLevel, renderError, StderrLogger, type LogLevel } from './output.js';
import { ConfigCommand } from './commands/config.js';
import { GcCommand } from './commands/gc.js';
import { InitCommand } from './commands/init.js';
import { ListCommand } from './commands/list.js';
import { NewCommand } from './commands/new.js';
import { RemoveCommand } from './commands/remove.js';
import { StatCommand } from './commands/stat.js';
import { TagCommand } from './commands/tag.js';
import { ValidateCommand } from './commands/validate.js';

const COMMANDS: Array<typeof BaseCommand> = [
  ConfigCommand, NewCommand, TagCommand, RemoveCommand, StatCommand,
  GcCommand, InitCommand, ListCommand, ValidateCommand,
];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
 * command asked for is registered (start-up matters: `ls` should feel
 * instant); the whole set is built only to print the global help.
 */
function shapeOf(cls: typeof BaseCommand, prog: string): CommandShape & { built: () => ReturnType<typeof buildCli> } {
  let built: ReturnType<typeof buildCli> | undefined;
  const build = (): ReturnType<typeof buildCli> => (built ??= buildCli(prog, [cls]));
  return {
    paths: cls.paths as string[][],
    get options() {
      return new Map(build().infos[0]!.options.map((o) => [o.internal, o.takesValue]));
    },
    built: build,
  };
}

export async function main(argv: string[], prog: string): Promise<number> {
  let level: LogLevel = 'warn';
  let commandName = '';
  try {
    const shapes = COMMANDS.map((cls) => shapeOf(cls, prog));
    const n = normaliseArgv(argv, shapes);
    level = parseLogLevel(n.globals.log, n.globals.verbose);
    if (n.globals.cpuProfile !== undefined) await startProfile(n.globals.cpuProfile);
    if (n.globals.version) {
      process.stdout.write(`${prog} version ${packageVersion()}\nimage spec: ${IMAGE_SPEC_VERSION}\nruntime spec: ${RUNTIME_SPEC_VERSION}\nnode: ${process.version}\n`);
      return 0;
    }
    if (n.unknown !== undefined) throw new OcikitError('USAGE', `no such command: ${n.unknown.join(' ')} (see ${prog} --help)`);
    commandName = n.path.join(' ');
    const shape = shapes.find((sh) => sh === n.command);
    if (shape === undefined || n.globals.help) {
      const all = buildCli(prog, COMMANDS).infos;
      process.stdout.write(n.commandHelp && n.path.length > 0 && !n.globals.help ? groupHelp(prog, n.path, all) : globalHelp(prog, packageVersion(), all));
      return 0;
    }
    const { cli, infos } = shape.built();
    if (n.commandHelp) {
      process.stdout.write(commandHelp(prog, infos[0]!));
      return 0;
    }
    const context: OcikitContext = { ...Cli.defaultContext, log: new StderrLogger(level), prog };
    const command = cli.process(n.argv, context);
    command.context = context;
    return (await command.validateAndExecute()) ?? 0;
  } catch (err) {
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
