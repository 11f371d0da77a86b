/**
 * The man pages (man/*.1.md) and the CLI must agree: for every command, the
 * flags a page lists under OPTIONS are exactly the flags `ocikit CMD --help`
 * prints, and every command the CLI lists has a page. Also checks the fixed
 * page structure, the roff that scripts/build-man.mjs generates, and the
 * "man" list of package.json.
 *
 * Runs on the compiled tree (dist/test/man.test.js) after `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: the nearest directory above this file with ocikit's package.json. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ocikit') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the ocikit repository root');
    dir = up;
  }
}

const ROOT = findRoot();
const MAN = join(ROOT, 'man');
const BIN = join(ROOT, 'bin', 'ocikit');

const SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'ENVIRONMENT', 'EXIT STATUS', 'EXAMPLES', 'DIFFERENCES FROM UMOCI', 'SEE ALSO'];
const FLAG = /--[a-z][a-z0-9._-]*/g;

interface Page {
  /** "ocikit-config" */
  name: string;
  /** the source text */
  md: string;
  /** "config" ('' for the overview page ocikit.1.md) */
  command: string;
  /** other command names the page covers ("rm" for ocikit-remove) */
  aliases: string[];
}

/** `# HEADING` sections of a page, in order, with their text. */
function sections(md: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let inCode = false;
  for (const line of md.split('\n')) {
    if (line.trimStart().startsWith('```')) inCode = !inCode;
    const h = inCode ? null : /^# (.+)$/.exec(line);
    if (h) out.push([h[1]!.trim(), '']);
    else if (out.length > 0) out[out.length - 1]![1] += `${line}\n`;
  }
  return out;
}

function section(md: string, name: string): string {
  const s = sections(md).find(([n]) => n === name);
  assert.ok(s, `no "# ${name}" section`);
  return s[1];
}

/** The flags a page documents: every --flag on an option line (one starting with **-) of OPTIONS. */
function manFlags(md: string): Set<string> {
  const flags = new Set<string>();
  for (const line of section(md, 'OPTIONS').split('\n')) {
    if (!line.startsWith('**-')) continue;
    for (const m of line.matchAll(FLAG)) flags.add(m[0]);
  }
  return flags;
}

/**
 * The lines of one section of urfave/cli-style help ("OPTIONS:", "GLOBAL
 * OPTIONS:", "COMMANDS:"): from its header to the next unindented "HEADER:".
 */
function helpSection(help: string, header: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === header);
  assert.ok(start >= 0, `help has no "${header}" section:\n${help}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S.*:\s*$/.test(line)) break;
    out.push(line);
  }
  return out;
}

/**
 * The flags of an options section. Each option line is "   --flag value, --alias value   description";
 * only the flag column (before the first run of two or more spaces) is read, so a
 * description that mentions another flag does not count. Wrapped description lines
 * (not starting with "-") are skipped.
 */
function helpFlags(help: string, header: string): Set<string> {
  const flags = new Set<string>();
  for (const line of helpSection(help, header)) {
    const text = line.trim();
    if (!text.startsWith('-')) continue;
    const column = text.split(/\s{2,}|\t/)[0]!;
    for (const m of column.matchAll(FLAG)) flags.add(m[0]);
  }
  return flags;
}

/** Command names in the COMMANDS section of the top-level help, without categories and `help`. */
function helpCommands(help: string): string[] {
  const names: string[] = [];
  for (const line of helpSection(help, 'COMMANDS:')) {
    const text = line.trim();
    if (text === '' || text.endsWith(':')) continue;
    for (const name of text.split(/\s{2,}|\t/)[0]!.split(/,\s*/)) {
      if (name !== 'help' && name !== 'h') names.push(name);
    }
  }
  return names;
}

function loadPages(): Page[] {
  return readdirSync(MAN)
    .filter((f) => /^ocikit(-[a-z0-9-]+)?\.1\.md$/.test(f))
    .sort()
    .map((file) => {
      const name = file.replace(/\.1\.md$/, '');
      const md = readFileSync(join(MAN, file), 'utf8');
      const nameLine = section(md, 'NAME').trim();
      const names = /^(\S+(?:, *\S+)*) - \S/.exec(nameLine)?.[1]?.split(/, */) ?? [];
      return {
        name,
        md,
        command: name === 'ocikit' ? '' : commandOf(name.slice('ocikit-'.length)),
        aliases: names.slice(1).map((n) => commandOf(n.slice('ocikit-'.length))),
      };
    });
}

/** The command a page name stands for: "raw-unpack" is `raw unpack`. */
function commandOf(n: string): string {
  return n.startsWith('raw-') ? `raw ${n.slice(4)}` : n;
}

/** Every command name ocikit lists: the top level, and the raw group's as "raw X". */
function knownCommands(): string[] {
  return [...helpCommands(runHelp(['--help'])), ...helpCommands(runHelp(['raw', '--help'])).map((c) => `raw ${c}`)];
}

function runHelp(args: string[]): string {
  assert.ok(existsSync(BIN), `${BIN} does not exist`);
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '' } });
  assert.equal(r.error, undefined, `running ocikit ${args.join(' ')}: ${String(r.error)}`);
  assert.equal(r.status, 0, `ocikit ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const sorted = (s: Set<string>): string[] => [...s].sort();

/** --help is a global flag: a command's help may or may not list it; its page does not need to. */
function withoutHelp(s: Set<string>): string[] {
  return sorted(s).filter((f) => f !== '--help');
}

const pages = loadPages();

test('there is a man page per command of this release', () => {
  const names = pages.map((p) => p.name);
  for (const cmd of ['init', 'new', 'tag', 'remove', 'list', 'stat', 'config', 'gc', 'validate', 'unpack', 'repack', 'insert', 'raw', 'raw-unpack', 'raw-add-layer', 'raw-runtime-config', 'raw-mtree-validate']) {
    assert.ok(names.includes(`ocikit-${cmd}`), `man/ocikit-${cmd}.1.md is missing`);
  }
  assert.ok(names.includes('ocikit'), 'man/ocikit.1.md is missing');
});

for (const page of pages) {
  test(`${page.name}.1.md has the fixed sections in order`, () => {
    assert.deepEqual(sections(page.md).map(([n]) => n), SECTIONS);
    const nameLine = section(page.md, 'NAME').trim();
    assert.match(nameLine, new RegExp(`^${page.name}(, [a-z0-9-]+)* - \\S`), 'NAME reads "name - summary"');
    assert.ok(manFlags(page.md).size > 0, 'OPTIONS lists at least one **--flag** line');
  });

  if (page.command === '') {
    test('ocikit.1.md lists the global options of ocikit --help', () => {
      assert.deepEqual(sorted(manFlags(page.md)), sorted(helpFlags(runHelp(['--help']), 'GLOBAL OPTIONS:')));
    });
    continue;
  }
  for (const command of [page.command, ...page.aliases]) {
    test(`${page.name}.1.md lists the flags of ocikit ${command} --help`, () => {
      const help = runHelp([...command.split(' '), '--help']);
      assert.deepEqual(withoutHelp(manFlags(page.md)), withoutHelp(helpFlags(help, 'OPTIONS:')));
    });
  }
}

test('every command of ocikit --help has a man page', () => {
  const documented = new Set(pages.flatMap((p) => [p.command, ...p.aliases]));
  const missing = knownCommands().filter((c) => !documented.has(c));
  assert.deepEqual(missing, [], `commands without a man page: ${missing.join(', ')}`);
});

test('every page documented as an alias is a command ocikit knows', () => {
  const known = new Set(knownCommands());
  for (const p of pages) {
    for (const c of [p.command, ...p.aliases]) if (c !== '') assert.ok(known.has(c), `${p.name}.1.md documents "${c}", which ocikit --help does not list`);
  }
});

test('package.json installs every generated page', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man?: string[] };
  const expected = pages.flatMap((p) => [p.name, ...p.aliases.map((a) => `ocikit-${a.replace(' ', '-')}`)]).map((n) => `./man/${n}.1`);
  assert.deepEqual([...(pkg.man ?? [])].sort(), expected.sort());
});

test('the build wrote roff next to every page', () => {
  for (const p of pages) {
    const roff = readFileSync(join(MAN, `${p.name}.1`), 'utf8');
    assert.match(roff, new RegExp(`^\\.TH "${p.name.toUpperCase()}" "1" `, 'm'));
    // No unescaped hyphen outside requests and comments.
    for (const line of roff.split('\n')) {
      if (line.startsWith('.')) continue;
      assert.doesNotMatch(line.replace(/\\-/g, ''), /-/, `unescaped "-" in ${p.name}.1: ${line}`);
    }
    for (const alias of p.aliases) {
      assert.equal(readFileSync(join(MAN, `ocikit-${alias.replace(' ', '-')}.1`), 'utf8'), `.so man1/${p.name}.1\n`);
    }
  }
});

test('groff formats every page without warnings', (t) => {
  const probe = spawnSync('groff', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    t.skip('groff is not installed');
    return;
  }
  for (const p of pages) {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(MAN, `${p.name}.1`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', `${p.name}.1: ${r.stderr}`);
  }
});

interface Converter {
  convert(md: string, opts: { name: string; section: string; date: string; source: string }): { roff: string; aliases: string[] };
}

test('build-man escapes roff and converts the markdown subset', async () => {
  const { convert } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build-man.mjs')).href)) as Converter;
  const md = [
    '# NAME',
    'ocikit-x, ocikit-y - do a thing',
    '',
    '# OPTIONS',
    '**--flag** *VALUE*',
    '    Takes `a-b` and a back\\slash.',
    '',
    '    - first',
    '',
    '```',
    '.hidden',
    "'quoted",
    '```',
  ].join('\n');
  const { roff, aliases } = convert(md, { name: 'ocikit-x', section: '1', date: '2024-01-01', source: 'x' });
  assert.deepEqual(aliases, ['ocikit-y']);
  const lines = roff.split('\n');
  assert.ok(lines.includes('ocikit\\-x, ocikit\\-y \\- do a thing'));
  assert.ok(lines.includes('.SH "OPTIONS"'));
  const tp = lines.indexOf('.TP');
  assert.equal(lines[tp + 1], '\\fB\\-\\-flag\\fR \\fIVALUE\\fR');
  assert.equal(lines[tp + 2], 'Takes \\fBa\\-b\\fR and a back\\eslash.');
  assert.ok(lines.includes('.IP \\(bu 2'));
  const nf = lines.indexOf('.nf');
  assert.deepEqual(lines.slice(nf + 1, nf + 4), ['\\&.hidden', "\\&'quoted", '.fi']);
});
