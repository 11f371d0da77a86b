import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from '../../src/util/tab-writer.js';

const UMOCI = { minwidth: 4, tabwidth: 2, padding: 1, padchar: ' ' };

// Expected outputs printed by Go's text/tabwriter.
describe('tabwrite matches text/tabwriter', () => {
  test('column blocks break at lines without the column; minwidth; rune widths', () => {
    const input = 'a\tbb\tc\nlonger cell\tx\ty\tz\nno tabs here\nq\tr\n\tempty first\n日本語\tx\n';
    const want = 'a           bb  c\nlonger cell x   y   z\nno tabs here\nq   r\n    empty first\n日本語 x\n';
    assert.equal(tabwrite(input, UMOCI), want);
  });

  test('padding with tabs rounds cells up to tab stops', () => {
    const opts = { minwidth: 0, tabwidth: 4, padding: 1, padchar: '\t' };
    assert.equal(tabwrite('a\tb\nabcdef\tc\n', opts), 'a\t\tb\nabcdef\tc\n');
  });

  test('a final line without newline is written without one', () => {
    assert.equal(tabwrite('ab\tc\nd\te', UMOCI), 'ab  c\nd   e');
  });

  test('the trailing cell is never padded, even when empty', () => {
    assert.equal(tabwrite('x\t\ny\t\n', UMOCI), 'x   \ny   \n');
  });
});
