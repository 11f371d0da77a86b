import { Command, Option, type BaseContext } from 'clipanion';
import { OcikitError } from '../errors.js';
import type { Logger } from '../util/log.js';

export interface OcikitContext extends BaseContext {
  log: Logger;
  /** The name the program was invoked as (a symlink named umoci reads as umoci). */
  prog: string;
}

/**
 * What every command shares: positional arguments collected here (each
 * command checks their number with umoci's messages), one-line docs for help,
 * and helpers to demand a flag. Commands parse, call one library verb, print.
 */
export abstract class BaseCommand extends Command<OcikitContext> {
  /** urfave/cli's ArgsUsage: what follows the options in the usage line. */
  static argsUsage = '';

  args = Option.Rest();

  protected required(value: string | undefined, flag: string): string {
    if (value === undefined) throw new OcikitError('USAGE', `missing mandatory argument: --${flag}`);
    return value;
  }

  protected positionals(count: number, expected: string): string[] {
    if (this.args.length !== count) {
      throw new OcikitError('USAGE', `invalid number of positional arguments: expected ${expected}`);
    }
    return this.args;
  }

  protected out(text: string): void {
    this.context.stdout.write(text);
  }
}
