/**
 * The name a docker-archive gives its image (`RepoTags`) and the default
 * archive file name, as dockersave does: the layout directory's base name
 * as the repository and the layout tag as the tag, both made valid for
 * Docker's reference grammar (docker/distribution reference: a lowercase
 * path component, and a tag of `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
 */
import { basename, resolve } from 'node:path';

const MAX_COMPONENT = 128;

/** A valid Docker repository name component made from any text ("My Images" → "my-images"). */
export function dockerRepoName(text: string): string {
  const lower = text.toLowerCase();
  // Runs of characters other than [a-z0-9] become one separator: kept when
  // Docker allows it between alphanumerics ('.', '_', '__', dashes), else '-'.
  const joined = lower.replace(/[^a-z0-9]+/g, (run) => (/^(?:\.|_|__|-+)$/.test(run) ? run : '-'));
  const trimmed = joined.replace(/^[^a-z0-9]+/, '').replace(/[^a-z0-9]+$/, '').slice(0, MAX_COMPONENT).replace(/[^a-z0-9]+$/, '');
  return trimmed === '' ? 'image' : trimmed;
}

/** A valid Docker tag made from an OCI ref name ("1.0+build/x" → "1.0-build-x"). */
export function dockerTag(tag: string): string {
  let t = tag.replace(/[^A-Za-z0-9_.-]/g, '-');
  if (!/^[A-Za-z0-9_]/.test(t)) t = `_${t}`;
  return t.slice(0, MAX_COMPONENT);
}

/** The `RepoTags` entry for an image of the layout at `layoutPath` tagged `tag`. */
export function dockerRepoTag(layoutPath: string, tag: string): string {
  return `${dockerRepoName(basename(resolve(layoutPath)))}:${dockerTag(tag)}`;
}

/** dockersave's default archive name: `<repo>-<tag>.tar`. */
export function defaultArchiveName(layoutPath: string, tag: string): string {
  return `${dockerRepoName(basename(resolve(layoutPath)))}-${dockerTag(tag)}.tar`;
}

/** The tag part of a RepoTags entry ("docker.io/foo/bar:v1" → "v1"), or undefined when it has none. */
export function repoTagTag(repoTag: string): string | undefined {
  const colon = repoTag.lastIndexOf(':');
  if (colon < 0 || repoTag.indexOf('/', colon) >= 0) return undefined;
  return repoTag.slice(colon + 1);
}
