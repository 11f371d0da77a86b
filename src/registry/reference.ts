/**
 * Image references as Docker normalises them (distribution/reference's
 * grammar and `ParseNormalizedNamed`), for the registry bridge:
 *
 *   alpine                     → docker.io/library/alpine:latest
 *   user/app:1.2               → docker.io/user/app:1.2
 *   localhost:5000/app         → localhost:5000/app:latest
 *   ghcr.io/o/r@sha256:<hex>   → digest only, no default tag
 *
 * The first component is a registry host when it holds a "." or ":", is
 * "localhost", or has an upper-case letter; otherwise the registry is
 * docker.io, where a one-component name gets "library/". "index.docker.io"
 * is docker.io. Repository paths must be lower case.
 */
import { OcikitError } from '../errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** Where docker.io's API is served. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
const MAX_NAME = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host, with its port if any ("docker.io", "localhost:5000"). */
  registry: string;
  /** Repository path ("library/alpine"). */
  repository: string;
  /** The tag; "latest" when neither a tag nor a digest was given. */
  tag?: string;
  digest?: string;
}

function invalid(input: string, why?: string): OcikitError {
  return new OcikitError('USAGE', `invalid reference format${why ? `: ${why}` : ''}: ${JSON.stringify(input)}`);
}

function validDomain(domain: string): boolean {
  let host = domain;
  const colon = domain.lastIndexOf(':');
  if (colon >= 0 && !domain.endsWith(']')) {
    const port = domain.slice(colon + 1);
    if (!/^[0-9]+$/.test(port)) return false;
    host = domain.slice(0, colon);
  }
  if (IPV6.test(host)) return true;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** Parses and normalises a reference as Docker does (see the module comment). */
export function parseReference(input: string): Reference {
  if (input === '') throw invalid(input);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, 'invalid digest');
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(input, 'invalid tag');
  }
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      path = rest.slice(slash + 1);
      if (!validDomain(registry)) throw invalid(input, 'invalid registry host');
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  if (path === '' || path.split('/').some((c) => c === '')) throw invalid(input);
  if (path.toLowerCase() !== path) throw invalid(input, 'repository name must be lowercase');
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c))) throw invalid(input);
  if (registry === DEFAULT_REGISTRY && HEX64.test(rest)) {
    throw invalid(input, 'cannot specify 64-byte hexadecimal strings as a repository name');
  }
  if (`${registry}/${path}`.length > MAX_NAME) throw invalid(input, `repository name longer than ${MAX_NAME} characters`);
  const ref: Reference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** The fully qualified form: "docker.io/library/alpine:latest", "host/r@sha256:…". */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form Docker prints: "alpine:latest", "user/app:1", "localhost:5000/app:latest". */
export function familiarReference(ref: Reference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith('library/') && ref.repository.split('/').length === 2 ? ref.repository.slice(8) : ref.repository;
  }
  let s = name;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The host the registry API is served from (docker.io's is registry-1.docker.io). */
export function apiHost(ref: Reference): string {
  return ref.registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : ref.registry;
}
