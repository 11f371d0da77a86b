#!/usr/bin/env node
// Converts the man pages in man/*.1.md to roff (man/<name>.1), with no
// dependency beyond Node. Run by `npm run build`; the .1 files are generated
// and git-ignored.
//
// The markdown is a small fixed subset, on purpose:
//
//   # SECTION            -> .SH        (## Sub -> .SS)
//   text lines           -> a paragraph (.PP); lines are kept as they are
//   **--flag** *ARG*     -> a tagged paragraph (.TP): a line starting with
//       description         bold or italic text, when the next line is
//                           indented by 4 spaces; the indented lines (blank
//                           lines allowed between them) are its body, which may
//                           hold paragraphs, lists and code blocks
//   - item               -> a bullet (.IP); continuation lines indented by 2
//   ``` ... ```          -> a literal block (.nf/.fi), indented
//   **bold**, *italic*, `code` (shown bold), within one line
//
// Escaping: "\" becomes "\e", "-" becomes "\-", and a "." or "'" that would
// start an output line is protected with "\&". In the NAME section, a line
// "name1, name2 - summary" makes name2 an alias: man/<name2>.1 is written as
// a ".so" link to the first page (so `man ocikit-rm` finds ocikit-remove).
//
// Usage: node scripts/build-man.mjs [FILE.md...]   (default: man/*.1.md)
// The date in .TH is SOURCE_DATE_EPOCH if set, else the source file's mtime.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Escapes plain text for roff (not the start-of-line rule, see protectLine). */
function escapeText(s) {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
}

/** A line starting with "." or "'" would be read as a request. */
function protectLine(s) {
  return /^[.']/.test(s) ? `\\&${s}` : s;
}

/** Inline markup of one line: `code`, **bold**, *italic*; everything else escaped. */
export function inline(s) {
  let out = '';
  // Code spans first, so that * inside them stays literal.
  const parts = s.split(/(`[^`]*`)/);
  for (const part of parts) {
    if (part.startsWith('`') && part.endsWith('`') && part.length >= 2) {
      out += `\\fB${escapeText(part.slice(1, -1))}\\fR`;
      continue;
    }
    out += escapeText(part)
      .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR')
      .replace(/(^|[^\\\w*])\*([^*\s][^*]*?)\*/g, '$1\\fI$2\\fR');
  }
  return out;
}

function text(line) {
  return protectLine(inline(line.trim()));
}

/** Removes `n` leading spaces from each line (blank lines stay blank). */
function dedent(lines, n) {
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(n)));
}

const indentOf = (l) => l.length - l.trimStart().length;
const isBullet = (l) => /^[-*] /.test(l);
const isFence = (l) => l.trimStart().startsWith('```');
/** A possible .TP tag: starts in column 0 with bold or italic text. */
const isTag = (l) => /^\*\S/.test(l);

/**
 * Parses lines (already dedented to column 0) into blocks:
 * {type:'heading',level,text} {type:'para',lines} {type:'list',items:[lines]}
 * {type:'code',lines} {type:'item',tag,body:[blocks]}
 */
export function parseBlocks(lines) {
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') { i++; continue; }
    if (isFence(line)) {
      const code = [];
      i++;
      while (i < lines.length && !isFence(lines[i])) code.push(lines[i++]);
      if (i >= lines.length) throw new Error('unterminated ``` block');
      i++;
      // Keep the block's relative indentation.
      const min = Math.min(...code.filter((l) => l.trim() !== '').map(indentOf), Infinity);
      blocks.push({ type: 'code', lines: dedent(code, Number.isFinite(min) ? min : 0).map((l) => l.trimEnd()) });
      continue;
    }
    const h = /^(#{1,2}) +(.*)$/.exec(line);
    if (h) {
      blocks.push({ type: 'heading', level: h[1].length, text: h[2].trim() });
      i++;
      continue;
    }
    if (isTag(line) && i + 1 < lines.length && indentOf(lines[i + 1]) >= 4 && lines[i + 1].trim() !== '') {
      const tag = line;
      const body = [];
      i++;
      while (i < lines.length && (lines[i].trim() === '' || indentOf(lines[i]) >= 4)) body.push(lines[i++]);
      while (body.length > 0 && body[body.length - 1] === '') body.pop();
      blocks.push({ type: 'item', tag, body: parseBlocks(dedent(body, 4)) });
      continue;
    }
    if (isBullet(line)) {
      const items = [];
      while (i < lines.length && (isBullet(lines[i]) || (indentOf(lines[i]) >= 2 && lines[i].trim() !== '' && items.length > 0))) {
        if (isBullet(lines[i])) items.push([lines[i].slice(2)]);
        else items[items.length - 1].push(lines[i]);
        i++;
      }
      blocks.push({ type: 'list', items });
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== '' && !isFence(lines[i]) && !isBullet(lines[i]) && !/^#{1,2} /.test(lines[i])) {
      para.push(lines[i++]);
      // An option tag may follow a paragraph line directly.
      if (i + 1 < lines.length && isTag(lines[i]) && indentOf(lines[i + 1]) >= 4 && lines[i + 1].trim() !== '') break;
    }
    blocks.push({ type: 'para', lines: para });
  }
  return blocks;
}

function emitCode(out, lines) {
  out.push('.nf');
  for (const l of lines) out.push(l === '' ? '' : protectLine(escapeText(l)));
  out.push('.fi');
}

/** Emits top-level blocks. */
function emitBlocks(out, blocks) {
  for (const b of blocks) {
    switch (b.type) {
      case 'heading':
        out.push(`${b.level === 1 ? '.SH' : '.SS'} "${escapeText(b.text).replace(/"/g, '\\(dq')}"`);
        break;
      case 'para':
        out.push('.PP');
        for (const l of b.lines) out.push(text(l));
        break;
      case 'list':
        for (const item of b.items) {
          out.push('.IP \\(bu 2');
          for (const l of item) out.push(text(l));
        }
        break;
      case 'code':
        out.push('.PP', '.RS 4');
        emitCode(out, b.lines);
        out.push('.RE');
        break;
      case 'item':
        out.push('.TP', text(b.tag));
        emitBody(out, b.body);
        break;
      default:
        throw new Error(`unknown block ${b.type}`);
    }
  }
}

/** Emits the body of a .TP item: it stays at the item's indentation. */
function emitBody(out, blocks) {
  let first = true;
  for (const b of blocks) {
    switch (b.type) {
      case 'para':
        if (!first) out.push('.IP');
        for (const l of b.lines) out.push(text(l));
        break;
      case 'list':
        out.push('.RS');
        for (const item of b.items) {
          out.push('.IP \\(bu 2');
          for (const l of item) out.push(text(l));
        }
        out.push('.RE');
        break;
      case 'code':
        out.push('.RS', '.PP');
        emitCode(out, b.lines);
        out.push('.RE');
        break;
      default:
        throw new Error(`a ${b.type} cannot appear inside an option description`);
    }
    first = false;
  }
}

const quoteArg = (s) => `"${s.replace(/\\/g, '\\e').replace(/"/g, '\\(dq')}"`;

/**
 * Converts one page. `name` is the page name ("ocikit-config"), `section` its
 * section ("1"). Returns { roff, aliases } where aliases are other names listed
 * in the NAME section.
 */
export function convert(markdown, { name, section, date, source }) {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const blocks = parseBlocks(lines);
  const aliases = [];
  const nameAt = blocks.findIndex((b) => b.type === 'heading' && b.level === 1 && b.text === 'NAME');
  if (nameAt < 0) throw new Error(`${name}: no "# NAME" section`);
  const nameBlock = blocks[nameAt + 1];
  if (nameBlock?.type !== 'para') throw new Error(`${name}: the NAME section must be one line "name - summary"`);
  const m = /^(\S+(?:, *\S+)*) +- +\S/.exec(nameBlock.lines.join(' '));
  if (!m) throw new Error(`${name}: the NAME line must read "name - summary"`);
  const names = m[1].split(/, */);
  if (names[0] !== name) throw new Error(`${name}: the NAME line starts with ${names[0]}, not the file's name`);
  aliases.push(...names.slice(1));

  const out = [
    `.\\" Generated by scripts/build-man.mjs from ${source}; do not edit.`,
    `.TH ${quoteArg(name.toUpperCase())} ${quoteArg(section)} ${quoteArg(date)} ${quoteArg(`ocikit ${version()}`)} "ocikit manual"`,
    // No hyphenation and no justification: flags must read as typed.
    '.nh',
    '.ad l',
  ];
  emitBlocks(out, blocks);
  return { roff: `${out.join('\n')}\n`, aliases };
}

let cachedVersion;
function version() {
  cachedVersion ??= JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  return cachedVersion;
}

function pageDate(file) {
  const sde = process.env.SOURCE_DATE_EPOCH;
  const ms = sde !== undefined && /^[0-9]+$/.test(sde) ? Number(sde) * 1000 : statSync(file).mtimeMs;
  return new Date(ms).toISOString().slice(0, 10);
}

/** Converts one file; writes man/<name>.<section> and alias links; returns the written paths. */
export function buildFile(file) {
  const base = basename(file);
  const m = /^(.+)\.([1-9])\.md$/.exec(base);
  if (!m) throw new Error(`${file}: man page sources are named NAME.SECTION.md`);
  const [, name, section] = m;
  const { roff, aliases } = convert(readFileSync(file, 'utf8'), { name, section, date: pageDate(file), source: `man/${base}` });
  const dir = dirname(file);
  const target = join(dir, `${name}.${section}`);
  writeFileSync(target, roff);
  const written = [target];
  for (const alias of aliases) {
    const link = join(dir, `${alias}.${section}`);
    writeFileSync(link, `.so man${section}/${name}.${section}\n`);
    written.push(link);
  }
  return written;
}

function main(args) {
  const files = args.length > 0
    ? args
    : readdirSync(join(ROOT, 'man')).filter((f) => /\.[1-9]\.md$/.test(f)).sort().map((f) => join(ROOT, 'man', f));
  let failed = false;
  let count = 0;
  for (const file of files) {
    try {
      count += buildFile(file).length;
    } catch (err) {
      console.error(`build-man: ${err instanceof Error ? err.message : String(err)}`);
      failed = true;
    }
  }
  if (failed) process.exit(1);
  if (process.env.BUILD_MAN_VERBOSE) console.error(`build-man: wrote ${count} pages`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
