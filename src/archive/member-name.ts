/**
 * Safety of member names in archives that `load` reads. An archive is
 * hostile until proven otherwise: a name that is absolute, climbs with `..`,
 * or a link whose target leaves the archive is refused (UNSAFE_ENTRY) before
 * anything is stored, even though load never writes members to the
 * filesystem by name: a name that could mean two things is not guessed at.
 */
import { OcikitError } from '../errors.js';

function unsafe(name: string, why: string): never {
  throw new OcikitError('UNSAFE_ENTRY', `archive member ${JSON.stringify(name)}: ${why}`);
}

/**
 * The canonical form of a member name ("./a//b/" → "a/b"); refuses an empty
 * or absolute name, a NUL, and any `..` component.
 */
export function cleanMemberName(name: string): string {
  if (name.includes('\0')) unsafe(name, 'contains a NUL byte');
  if (name.startsWith('/')) unsafe(name, 'is an absolute path');
  const parts: string[] = [];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') unsafe(name, "has a '..' component");
    parts.push(seg);
  }
  if (parts.length === 0 && name !== '.' && name !== './') unsafe(name, 'is empty');
  return parts.join('/');
}

/**
 * Where a symbolic link member points, as a member name: the target is read
 * relative to the link's directory and must stay inside the archive.
 */
export function resolveLinkTarget(linkName: string, target: string): string {
  if (target === '' || target.includes('\0')) unsafe(linkName, `has an invalid link target ${JSON.stringify(target)}`);
  if (target.startsWith('/')) unsafe(linkName, `links to an absolute path ${JSON.stringify(target)}`);
  const parts = linkName.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') parts.push(seg);
    else if (parts.length > 0) parts.pop();
    else unsafe(linkName, `links outside the archive (${JSON.stringify(target)})`);
  }
  return parts.join('/');
}

/** A name a docker-archive's manifest.json uses, checked as a member name. */
export function referencedName(name: unknown, what: string): string {
  if (typeof name !== 'string') throw new OcikitError('SCHEMA_INVALID', `manifest.json: ${what} is not a string`);
  const clean = cleanMemberName(name);
  if (clean === '') unsafe(name, `names no file (${what})`);
  return clean;
}
