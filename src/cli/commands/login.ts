import { Command } from 'clipanion';
import { OcikitError } from '../../errors.js';
import { storeCredentials } from '../../registry/credential-store.js';
import { parseReference } from '../../registry/reference.js';
import { canPrompt, prompt } from '../options/prompt.js';
import { RegistryCommand } from '../options/registry.js';

/** "https://index.docker.io/v1/", "localhost:5000", "quay.io" → the registry host as references name it. */
export function registryArgument(text: string): string {
  const host = text.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  if (host === '') throw new OcikitError('USAGE', `invalid registry ${JSON.stringify(text)}`);
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host.toLowerCase())) return 'docker.io';
  parseReference(`${host}/x`); // refuses what no reference could name
  return host;
}

export class LoginCommand extends RegistryCommand {
  static override paths = [['login']];
  static override usage = Command.Usage({
    category: 'registry',
    description: 'logs in to a registry and stores the credentials',
    details: 'Checks the credentials against the registry, then stores them in the Docker config format (--authfile, else $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json or ~/.docker/config.json), through the credential helper that file names if any. Prompts for what is missing when standard input is a terminal; --password-stdin reads the password from standard input for scripts.',
  });
  static override argsUsage = '[--username <user>] [--password-stdin] <registry>';

  async execute(): Promise<number> {
    const [text] = this.positionals(1, '<registry>');
    const registry = registryArgument(text!);
    let username = this.username;
    let password = this.givenPassword();
    if (username === undefined) {
      if (!canPrompt()) throw new OcikitError('USAGE', 'no --username given and standard input is not a terminal to ask for it');
      username = await prompt('Username: ', false);
    }
    if (password === undefined) {
      if (!canPrompt()) throw new OcikitError('USAGE', 'no password given (--password-stdin) and standard input is not a terminal to ask for it');
      password = await prompt('Password: ', true);
    }
    if (username === '' || password === '') throw new OcikitError('USAGE', 'the user name and the password must not be empty');
    const client = await this.client({ registry, repository: 'x' }, undefined, { username, password, source: 'login' });
    try {
      await client.checkLogin();
    } finally {
      client.close();
    }
    await storeCredentials(registry, username, password, this.authfile);
    this.out('Login Succeeded!\n');
    return 0;
  }
}
