/**
 * umoci parses its arguments with Go's flag package (through urfave/cli v1):
 * `--name value`, `--name=value`, `-name value` and `-name=value` are the same,
 * a value may start with "-", booleans take `--x`, `--x=true` or `--x=false`,
 * and `--` ends the options. clipanion accepts less, so this module rewrites
 * what the user typed into a form clipanion takes: every option as
 * `--internal-name=value` (see flags.ts), then `--`, then the positionals.
 * It is the only place that knows about Go's syntax.
 */
import { OcikitError } from '../errors.js';
import { internalFor, specOf } from './flags.js';

/** What argv.ts must know of a command: its paths and its options' arity. */
/** A usage error found after the command was recognised: carries its path, so the message can name it. */
export class ArgvError extends OcikitError {
  constructor(readonly path: string[], cause: OcikitError) {
    super(cause.code, cause.message, { cause });
  }
}

export interface CommandShape {
  paths: string[][];
  /** internal option name (without dashes) → takes a value? Asked only of the command matched. */
  options: () => Promise<Map<string, boolean>>;
}

export interface GlobalFlags {
  log?: string;
  verbose: boolean;
  help: boolean;
  version: boolean;
  cpuProfile?: string;
}

export interface Normalised {
  globals: GlobalFlags;
  /** The command matched, if any. */
  command?: CommandShape;
  path: string[];
  /** Arguments for clipanion (path included). */
  argv: string[];
  /** `--help` or `-h` after the command, or `help CMD`. */
  commandHelp: boolean;
  /** Words where a command was expected but none matched. */
  unknown?: string[];
}

const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function parseBool(name: string, value: string): boolean {
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  throw new OcikitError('USAGE', `invalid boolean value ${JSON.stringify(value)} for -${name}`);
}

/** Splits "-name=value" / "--name" into its parts, or undefined for a non-flag token. */
function splitFlag(token: string): { name: string; value?: string } | undefined {
  if (token.length < 2 || token[0] !== '-' || token === '--') return undefined;
  const body = token.startsWith('--') ? token.slice(2) : token.slice(1);
  if (body === '' || body.startsWith('-')) return undefined;
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

function parseGlobals(argv: string[]): { globals: GlobalFlags; rest: string[] } {
  const globals: GlobalFlags = { verbose: false, help: false, version: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const f = splitFlag(argv[i]!);
    if (f === undefined) break;
    const takeValue = (): string => {
      if (f.value !== undefined) return f.value;
      if (i + 1 >= argv.length) throw new OcikitError('USAGE', `flag needs an argument: -${f.name}`);
      return argv[++i]!;
    };
    switch (f.name) {
      case 'log': globals.log = takeValue(); break;
      case 'cpu-profile': globals.cpuProfile = takeValue(); break;
      case 'verbose': globals.verbose = f.value === undefined ? true : parseBool(f.name, f.value); break;
      case 'help': case 'h': globals.help = f.value === undefined ? true : parseBool(f.name, f.value); break;
      case 'version': case 'v': globals.version = f.value === undefined ? true : parseBool(f.name, f.value); break;
      default: throw new OcikitError('USAGE', `flag provided but not defined: -${f.name}`);
    }
  }
  if (argv[i] === '--') i++;
  return { globals, rest: argv.slice(i) };
}

function matchCommand(words: string[], commands: CommandShape[]): { command: CommandShape; path: string[] } | undefined {
  let best: { command: CommandShape; path: string[] } | undefined;
  for (const command of commands) {
    for (const path of command.paths) {
      if (path.length <= words.length && path.every((w, k) => words[k] === w) && (best === undefined || path.length > best.path.length)) {
        best = { command, path };
      }
    }
  }
  return best;
}

export async function normaliseArgv(argv: string[], commands: CommandShape[]): Promise<Normalised> {
  const { globals, rest } = parseGlobals(argv);
  let words = rest;
  let commandHelp = false;
  if (words[0] === 'help' || words[0] === 'h') {
    commandHelp = true;
    words = words.slice(1);
    if (words.length === 0) return { globals: { ...globals, help: true }, path: [], argv: [], commandHelp: false };
  }
  if (words.length === 0) return { globals, path: [], argv: [], commandHelp: false };
  const match = matchCommand(words, commands);
  if (match === undefined) {
    // A group word ("raw", "raw --help") asks for the group's help.
    const isGroup = (prefix: string[]): boolean => commands.some((c) => c.paths.some((p) => p.length > prefix.length && prefix.every((w, k) => p[k] === w)));
    let n = words.length;
    while (n > 0 && !isGroup(words.slice(0, n))) n--;
    const helpOnly = words.slice(n).every((w) => w === '--help' || w === '-h' || w === '-help');
    if (n > 0 && helpOnly) return { globals, path: words.slice(0, n), argv: [], commandHelp: true };
    return { globals, path: [], argv: [], commandHelp: false, unknown: n > 0 ? words.slice(0, n + 1) : words.slice(0, 1) };
  }
  const { command, path } = match;
  try {
    return await normaliseCommand(globals, command, path, words.slice(path.length), commandHelp);
  } catch (err) {
    throw err instanceof OcikitError ? new ArgvError(path, err) : err;
  }
}

async function normaliseCommand(globals: GlobalFlags, command: CommandShape, path: string[], tokens: string[], commandHelp: boolean): Promise<Normalised> {
  const known = await command.options();
  const options: string[] = [];
  const booleans = new Map<string, boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    const f = splitFlag(token);
    if (f === undefined) {
      positionals.push(token);
      continue;
    }
    if (f.name === 'help' || f.name === 'h') {
      commandHelp = true;
      continue;
    }
    const internal = internalFor(f.name);
    const takesValue = known.get(internal);
    // Global flags after the command: umoci refuses them, ocikit takes them.
    if (takesValue === undefined && (f.name === 'verbose' || f.name === 'log')) {
      if (f.name === 'verbose') globals.verbose = f.value === undefined ? true : parseBool(f.name, f.value);
      else if (f.value !== undefined) globals.log = f.value;
      else if (i + 1 < tokens.length) globals.log = tokens[++i]!;
      else throw new OcikitError('USAGE', 'flag needs an argument: -log');
      continue;
    }
    if (takesValue === undefined) throw new OcikitError('USAGE', `flag provided but not defined: -${f.name}`);
    if (takesValue) {
      let value = f.value;
      if (value === undefined) {
        if (i + 1 >= tokens.length) throw new OcikitError('USAGE', `flag needs an argument: -${f.name}`);
        value = tokens[++i]!;
      }
      options.push(`--${internal}=${value}`);
    } else {
      // Every boolean defaults to false: the last occurrence wins, and only a true one is passed on.
      booleans.set(internal, f.value === undefined ? true : parseBool(f.name, f.value));
    }
  }
  for (const [internal, on] of booleans) {
    if (on) options.push(`--${internal}`);
    else if (specOf(internal)?.defaultTrue) options.push(`--no-${internal}`);
  }
  return { globals, command, path, argv: [...path, ...options, ...(positionals.length > 0 ? ['--', ...positionals] : [])], commandHelp };
}
