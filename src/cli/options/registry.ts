/**
 * What every command of the registry bridge shares: credentials
 * (`--username`, `--password`, `--password-stdin`, `--authfile`, else the
 * stored ones), TLS (`--ca-file`, `--cert-dir`, `--insecure`,
 * `--tls-verify=false`), `--retry-times`, and building a client for a
 * reference's registry.
 */
import { readFileSync } from 'node:fs';
import { OcikitError } from '../../errors.js';
import { ocikitVersion } from '../../index.js';
import { RegistryClient } from '../../registry/client.js';
import { findCredentials, type Credentials } from '../../registry/credentials.js';
import { apiHost, parseReference, type Reference } from '../../registry/reference.js';
import type { Progress } from '../../registry/progress.js';
import { Repository } from '../../registry/remote.js';
import type { TlsOptions } from '../../registry/transport.js';
import { BaseCommand } from '../base-command.js';
import { booleanFlag, stringFlag } from '../flags.js';

/** `OCIKIT_RETRY_BASE_MS`: the first backoff delay (tests make it short). */
function retryBase(): { retryBaseMs?: number } {
  const v = Number(process.env['OCIKIT_RETRY_BASE_MS']);
  return process.env['OCIKIT_RETRY_BASE_MS'] && Number.isFinite(v) && v >= 0 ? { retryBaseMs: v } : {};
}

export abstract class RegistryCommand extends BaseCommand {
  username = stringFlag('username');
  password = stringFlag('password');
  passwordStdin = booleanFlag('password-stdin');
  authfile = stringFlag('authfile');
  caFile = stringFlag('ca-file');
  certDir = stringFlag('cert-dir');
  insecure = booleanFlag('insecure');
  tlsVerify = booleanFlag('tls-verify');
  retryTimes = stringFlag('retry-times');

  /** A reference as given, with an optional `docker://` in front (skopeo's form). */
  protected reference(text: string): Reference {
    return parseReference(text.startsWith('docker://') ? text.slice('docker://'.length) : text);
  }

  protected tlsOptions(): TlsOptions {
    const tls: TlsOptions = {};
    if (this.caFile !== undefined) tls.caFile = this.caFile;
    if (this.certDir !== undefined) tls.certDir = this.certDir;
    if (this.insecure || !this.tlsVerify) tls.insecure = true;
    return tls;
  }

  protected count(value: string | undefined, flag: string, fallback: number, min = 0): number {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new OcikitError('USAGE', `invalid value ${JSON.stringify(value)} for --${flag}: expected a whole number${min > 0 ? ` of at least ${min}` : ''}`);
    }
    return Number(value);
  }

  /** The password from --password or standard input (one line, newline dropped). */
  protected givenPassword(): string | undefined {
    if (this.passwordStdin) {
      if (this.password !== undefined) throw new OcikitError('USAGE', '--password and --password-stdin are mutually exclusive');
      let text: string;
      try {
        text = readFileSync(0, 'utf8');
      } catch (err) {
        throw new OcikitError('USAGE', `--password-stdin: cannot read standard input: ${(err as Error).message}`);
      }
      return text.replace(/\r?\n$/, '');
    }
    return this.password;
  }

  /** Credentials from the flags, else from the auth files and helpers. */
  protected async credentials(registry: string): Promise<Credentials | undefined> {
    const password = this.givenPassword();
    if (this.username !== undefined || password !== undefined) {
      if (this.username === undefined || password === undefined) throw new OcikitError('USAGE', 'give both --username and a password (--password or --password-stdin)');
      return { username: this.username, password, source: 'the command line' };
    }
    const env = this.authfile !== undefined ? { ...process.env, REGISTRY_AUTH_FILE: this.authfile } : process.env;
    return findCredentials(registry, env);
  }

  /**
   * Aborted by the first SIGINT or SIGTERM, so a pull or push stops cleanly
   * (a pull removes what it added); a second signal kills as usual.
   */
  protected readonly interrupt = new AbortController();

  protected onSignals(): () => void {
    const stop = (): void => this.interrupt.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
  }

  protected async client(ref: Reference, onRetry?: (message: string) => void, given?: Credentials): Promise<RegistryClient> {
    const credentials = given ?? (await this.credentials(ref.registry));
    return new RegistryClient(apiHost(ref), {
      credentials,
      signal: this.interrupt.signal,
      tls: this.tlsOptions(),
      retries: this.count(this.retryTimes, 'retry-times', 5),
      userAgent: `ocikit/${ocikitVersion()}`,
      ...retryBase(),
      ...(onRetry ? { onRetry } : {}),
    });
  }

  protected async repository(ref: Reference, onRetry?: (message: string) => void): Promise<Repository> {
    return new Repository(await this.client(ref, onRetry), ref.repository);
  }

  /**
   * Runs a transfer on the reference's repository: retries are told to
   * `progress`, the first SIGINT/SIGTERM aborts it, and the progress display
   * and the connections are closed whatever happens.
   */
  protected async transfer<T>(ref: Reference, progress: Progress, fn: (repo: Repository) => Promise<T>): Promise<T> {
    const repo = await this.repository(ref, (m) => progress.note(m));
    const offSignals = this.onSignals();
    try {
      return await fn(repo);
    } finally {
      offSignals();
      progress.finish();
      repo.client.close();
    }
  }
}
