import { OcikitError } from '../errors.js';

/**
 * The image-layout ref-name grammar (annotation org.opencontainers.image.ref.name):
 * components of alphanumerics joined by one of - . _ : @ + or "--", separated by "/".
 */
const COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REFNAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

export function isValidRefName(name: string): boolean {
  return REFNAME.test(name);
}

export const DEFAULT_TAG = 'latest';

export interface ImageName {
  layout: string;
  tag: string;
}

/**
 * Parses `--image PATH[:TAG]` as umoci does: split at the first ':', TAG
 * defaults to "latest" and must match the ref-name grammar.
 */
export function parseImageName(value: string): ImageName {
  const colon = value.indexOf(':');
  const layout = colon < 0 ? value : value.slice(0, colon);
  const tag = colon < 0 ? DEFAULT_TAG : value.slice(colon + 1);
  if (layout === '') throw new OcikitError('USAGE', `invalid --image: empty path in ${JSON.stringify(value)}`);
  if (!isValidRefName(tag)) {
    throw new OcikitError('TAG_INVALID', `invalid --image tag: ${JSON.stringify(tag)} is not a valid reference name`);
  }
  return { layout, tag };
}

/** Checks `--layout PATH`: umoci refuses any ':' in it. */
export function parseLayoutPath(value: string): string {
  if (value === '') throw new OcikitError('USAGE', 'invalid --layout: empty path');
  if (value.includes(':')) {
    throw new OcikitError('USAGE', `invalid --layout: path contains ':' character: '${value}'`);
  }
  return value;
}
