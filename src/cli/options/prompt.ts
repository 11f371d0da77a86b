/**
 * Asking for a user name or a password on the terminal (login). The
 * password is read with echo off: the terminal is put in raw mode and each
 * key handled here. Never used when standard input is not a terminal.
 */
import { OcikitError } from '../../errors.js';

export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

export function prompt(question: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  out.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (err?: Error): void => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.off('data', onData);
      out.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new OcikitError('USAGE', 'login cancelled'));
        if (ch === '\u007f' || ch === '\b') {
          if (text.length > 0) {
            text = text.slice(0, -1);
            if (!hidden) out.write('\b \b');
          }
          continue;
        }
        text += ch;
        if (!hidden) out.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}
