/**
 * Help text in the shape of umoci's (urfave/cli v1), with the program name the
 * user invoked: scripts that read `umoci --help` read ocikit's the same way.
 */
import type { BaseCommand } from './base-command.js';
import { specOf } from './flags.js';

export interface CommandInfo {
  cls: typeof BaseCommand;
  paths: string[][];
  /** option definitions from clipanion: internal name and whether it takes a value */
  options: Array<{ internal: string; takesValue: boolean; description: string }>;
}

function pad(rows: Array<[string, string]>, indent: string): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`.trimEnd() + '\n').join('');
}

function wrapText(text: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > 79) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out.join('\n');
}

function description(cls: typeof BaseCommand): string {
  return cls.usage?.description ?? '';
}

export function globalHelp(prog: string, version: string, commands: CommandInfo[]): string {
  const groups = new Map<string, Array<[string, string]>>();
  const loose: Array<[string, string]> = [];
  const raw: CommandInfo[] = [];
  for (const c of commands) {
    if (c.paths[0]!.length > 1) {
      raw.push(c);
      continue;
    }
    const row: [string, string] = [c.paths.map((p) => p.join(' ')).join(', '), description(c.cls)];
    const cat = c.cls.usage?.category;
    if (cat === undefined) loose.push(row);
    else groups.set(cat, [...(groups.get(cat) ?? []), row]);
  }
  if (raw.length > 0) loose.unshift(['raw', 'advanced internal image tooling']);
  loose.push(['help, h', 'Shows a list of commands or help for one command']);
  let s = `NAME:\n   ${prog} - ${prog} modifies Open Container images\n\n`;
  s += `USAGE:\n   ${prog} [global options] command [command options] [arguments...]\n\n`;
  s += `VERSION:\n   ${version}\n\nCOMMANDS:\n${pad(loose, '   ')}`;
  for (const [cat, rows] of groups) s += `\n   ${cat}:\n${pad(rows, '     ')}`;
  s += '\nGLOBAL OPTIONS:\n';
  s += pad([
    ['--verbose', 'alias for --log=info'],
    ['--log value', 'set the log level (debug, info, [warn], error, fatal) (default: "warn")'],
    ['--help, -h', 'show help'],
    ['--version, -v', 'print the version'],
  ], '   ');
  return s;
}

/** Help for a group of subcommands (`raw`). */
export function groupHelp(prog: string, group: string[], commands: CommandInfo[]): string {
  const rows: Array<[string, string]> = commands
    .filter((c) => c.paths.some((p) => p.length > group.length && group.every((w, i) => p[i] === w)))
    .map((c) => [c.paths.map((p) => p.slice(group.length).join(' ')).join(', '), description(c.cls)]);
  return `NAME:\n   ${prog} ${group.join(' ')} - advanced internal image tooling\n\nUSAGE:\n   ${prog} ${group.join(' ')} command [command options] [arguments...]\n\nCOMMANDS:\n${pad(rows, '     ')}\nOPTIONS:\n   --help, -h  show help\n`;
}

export function commandHelp(prog: string, c: CommandInfo): string {
  const name = c.paths[0]!.join(' ');
  let s = `NAME:\n   ${prog} ${name} - ${description(c.cls)}\n\n`;
  // A second usage form goes on its own line, aligned under the first (umoci's insert).
  const lead = `${prog} ${name} [command options] `;
  s += `USAGE:\n   ${lead}${c.cls.argsUsage.split('\n').join(`\n   ${' '.repeat(lead.length)}`)}\n\n`;
  const details = c.cls.usage?.details;
  if (details) s += `${wrapText(details)}\n\n`;
  if (c.paths.length > 1) s += `ALIASES:\n   ${c.paths.map((p) => p.join(' ')).join(', ')}\n\n`;
  if (c.cls.usage?.category) s += `CATEGORY:\n   ${c.cls.usage.category}\n\n`;
  const rows: Array<[string, string]> = c.options.map((o) => {
    const spec = specOf(o.internal);
    const names = spec ? [spec.go, ...(spec.aliases ?? [])] : [o.internal];
    const value = o.takesValue ? ' value' : '';
    // urfave/cli prints one-letter names with one dash ("-f value").
    return [names.map((n) => `${n.length === 1 ? '-' : '--'}${n}${value}`).join(', '), o.description];
  });
  s += `OPTIONS:\n${rows.length > 0 ? pad(rows, '   ') : ''}`;
  return s;
}
