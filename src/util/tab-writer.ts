/**
 * Column alignment with the semantics of Go's `text/tabwriter` (flags 0), for
 * tables that must line up exactly as a Go tool's do (`umoci stat` uses
 * `tabwriter.NewWriter(w, 4, 2, 1, ' ', 0)`).
 *
 * The model, as Go's: a cell is text terminated by a tab; the text after the
 * last tab of a line is a trailing cell that takes no part in alignment. A
 * column block is a run of consecutive lines that all have a terminated cell
 * in that column; every cell of the block is padded to the block's widest
 * cell plus `padding`, and never below `minwidth`. Width is counted in code
 * points (Go counts UTF-8 runes). Only `\t` and `\n` are special here: Go's
 * `\v`, `\f` and the 0xff escape byte are not supported, so callers must
 * escape them (umoci's quoting already does).
 */

export interface TabWriterOptions {
  /** minimal cell width including padding */
  minwidth: number;
  /** width of a tab in columns; used only when `padchar` is `\t` */
  tabwidth: number;
  /** added to a cell's width before it is compared with the others */
  padding: number;
  /** the fill character: a space, or `\t` to pad with tabs */
  padchar: string;
}

interface Cell {
  text: string;
  width: number;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Returns `text` with its tab-separated columns aligned. Lines end where
 * `text` has `\n`; a final line without `\n` is emitted without one (as Go's
 * Flush does). Pure.
 */
export function tabwrite(text: string, opts: TabWriterOptions): string {
  const lines: Cell[][] = text.split('\n').map((line) =>
    line.split('\t').map((cell) => ({ text: cell, width: runeCount(cell) })),
  );
  const widths: number[] = [];
  const out: string[] = [];

  const padding = (textw: number, cellw: number): string => {
    if (opts.padchar === '\t') {
      if (opts.tabwidth === 0) return '';
      const rounded = Math.ceil(cellw / opts.tabwidth) * opts.tabwidth;
      return '\t'.repeat(Math.ceil((rounded - textw) / opts.tabwidth));
    }
    return opts.padchar.repeat(Math.max(cellw - textw, 0));
  };

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i] ?? [];
      let s = '';
      line.forEach((cell, j) => {
        s += cell.text;
        const cellw = widths[j];
        if (cellw !== undefined) s += padding(cell.width, cellw);
      });
      out.push(s);
    }
  };

  // Go's Writer.format: find column blocks left to right, recursively.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let current = line0; current < line1; current++) {
      if (column >= (lines[current]?.length ?? 0) - 1) continue;
      writeLines(line0, current);
      line0 = current;
      let width = opts.minwidth;
      for (; current < line1; current++) {
        const line = lines[current] ?? [];
        if (column >= line.length - 1) break;
        width = Math.max(width, (line[column]?.width ?? 0) + opts.padding);
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}
