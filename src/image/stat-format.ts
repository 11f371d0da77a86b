/**
 * What `umoci stat` prints, byte for byte as umoci 0.6 does (root `utils.go`:
 * `ManifestStat`, `Format`, the `pprint*` helpers and `xxd`), from blobs the
 * caller has already resolved, read and verified. This module does no I/O
 * and never throws for well-formed input.
 *
 * Two deliberate departures, both where umoci would crash or emit bytes a
 * JavaScript string cannot hold:
 * - umoci indexes `manifest.layers` and `rootfs.diff_ids` without bounds
 *   checks and panics when a config has more non-empty history entries than
 *   layers; here such an entry gets `layer: null` (and no `diff_id`).
 *   A history entry without `created` (a nil-pointer panic in umoci) prints
 *   an empty CREATED cell.
 * - In the hexdump of a descriptor's embedded `data`, umoci copies bytes
 *   0xa0–0xff (other than 0xad) raw into its UTF-8 output; they are shown as
 *   U+FFFD here, which is what a UTF-8 terminal displays for them anyway.
 */
import { OcikitError } from '../errors.js';
import { goQuoteJson as goJsonString } from '../oci/go-json.js';
import { formatRfc3339Nano, parseRfc3339 } from '../oci/go-time.js';
import type { Descriptor, ImageConfig, Manifest, Platform } from '../oci/types.js';
import { goCompactJson } from '../util/go-json-text.js';
import { goQuote, isGoGraphic, quoteIfNeeded } from '../util/go-quote.js';
import { humanSize } from '../util/go-units.js';
import { tabwrite } from '../util/tab-writer.js';

/** Everything `stat` shows, already read and parsed by the caller. */
export interface StatInput {
  /** the descriptor the tag resolves to (from index.json, annotations included) */
  manifestDescriptor: Descriptor;
  /** raw manifest blob */
  manifestBytes: Buffer;
  manifest: Manifest;
  configDescriptor: Descriptor;
  /** raw config blob */
  configBytes: Buffer;
  config: ImageConfig;
}

/** One row of the image history: a config history entry with the layer it produced. */
export interface StatHistoryEntry {
  /** the layer this entry produced; null for an empty layer (or a layer the manifest lacks) */
  layer: Descriptor | null;
  diff_id?: string;
  /** RFC 3339 text as stored */
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * History rows, one per `config.history` entry in order. Each entry that is
 * not `empty_layer` takes the next layer descriptor and diff_id (as umoci
 * does: empty entries may be interspersed). When the manifest or the config
 * runs out of layers or diff_ids, the entry gets `layer: null` / no
 * `diff_id` instead of failing. Pure.
 */
export function statHistory(input: StatInput): StatHistoryEntry[] {
  const layers = input.manifest.layers ?? [];
  const diffIds = input.config.rootfs?.diff_ids ?? [];
  let layerIdx = 0;
  return (input.config.history ?? []).map((h) => {
    const entry: StatHistoryEntry = { layer: null };
    if (!h.empty_layer) {
      entry.layer = layers[layerIdx] ?? null;
      const diffId = diffIds[layerIdx];
      if (diffId !== undefined) entry.diff_id = diffId;
      layerIdx++;
    }
    if (h.created !== undefined) entry.created = h.created;
    if (h.created_by !== undefined) entry.created_by = h.created_by;
    if (h.author !== undefined) entry.author = h.author;
    if (h.comment !== undefined) entry.comment = h.comment;
    if (h.empty_layer !== undefined) entry.empty_layer = h.empty_layer;
    return entry;
  });
}

/**
 * A timestamp as Go prints a parsed `time.Time` (RFC3339Nano); text Go's
 * parser refuses (umoci could not have read the blob) is shown as stored.
 */
function goTime(s: string): string {
  try {
    return formatRfc3339Nano(parseRfc3339(s));
  } catch (err) {
    if (err instanceof OcikitError && err.code === 'USAGE') return s;
    throw err;
  }
}

/** Compares strings by their UTF-8 bytes, as Go sorts map keys. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort(byteOrder);
}

// ---------------------------------------------------------------- JSON

function jsonStrings(list: string[]): string {
  return '[' + list.map(goJsonString).join(',') + ']';
}

function jsonPlatform(p: Platform): string {
  let out = `{"architecture":${goJsonString(p.architecture ?? '')},"os":${goJsonString(p.os ?? '')}`;
  if (p['os.version']) out += `,"os.version":${goJsonString(p['os.version'])}`;
  if (p['os.features'] && p['os.features'].length > 0) out += `,"os.features":${jsonStrings(p['os.features'])}`;
  if (p.variant) out += `,"variant":${goJsonString(p.variant)}`;
  return out + '}';
}

/** An `ispec.Descriptor` as Go encodes it: struct field order, omitempty, sorted annotations, canonical base64. */
function jsonDescriptor(d: Descriptor): string {
  let out = `{"mediaType":${goJsonString(d.mediaType ?? '')},"digest":${goJsonString(d.digest ?? '')},"size":${String(d.size ?? 0)}`;
  if (d.urls && d.urls.length > 0) out += `,"urls":${jsonStrings(d.urls)}`;
  const ann = d.annotations ?? {};
  const keys = sortedKeys(ann);
  if (keys.length > 0) {
    out += ',"annotations":{' + keys.map((k) => `${goJsonString(k)}:${goJsonString(ann[k] ?? '')}`).join(',') + '}';
  }
  const data = d.data === undefined ? undefined : Buffer.from(d.data, 'base64');
  if (data && data.length > 0) out += `,"data":"${data.toString('base64')}"`;
  if (d.platform) out += `,"platform":${jsonPlatform(d.platform)}`;
  if (d.artifactType) out += `,"artifactType":${goJsonString(d.artifactType)}`;
  return out + '}';
}

/** umoci's `historyStat`: layer and diff_id always present, embedded History fields omitempty. */
function jsonHistoryEntry(e: StatHistoryEntry): string {
  let out = `{"layer":${e.layer ? jsonDescriptor(e.layer) : 'null'},"diff_id":${goJsonString(e.diff_id ?? '')}`;
  if (e.created !== undefined) out += `,"created":${goJsonString(goTime(e.created))}`;
  if (e.created_by) out += `,"created_by":${goJsonString(e.created_by)}`;
  if (e.author) out += `,"author":${goJsonString(e.author)}`;
  if (e.comment) out += `,"comment":${goJsonString(e.comment)}`;
  if (e.empty_layer) out += ',"empty_layer":true';
  return out + '}';
}

/**
 * `umoci stat --json` (0.6): one line plus `\n`:
 * `{"manifest":{"descriptor":…,"blob":…},"config":{"descriptor":…,"blob":…},"history":[…]}`.
 * Each `blob` is the original blob bytes after Go's RawMessage treatment
 * (white space removed, `<>&` escaped), not a re-serialisation; `history` is
 * `[]` when the config has none. Pure.
 */
export function formatStatJson(input: StatInput): string {
  const manifest = `{"descriptor":${jsonDescriptor(input.manifestDescriptor)},"blob":${goCompactJson(input.manifestBytes)}}`;
  const config = `{"descriptor":${jsonDescriptor(input.configDescriptor)},"blob":${goCompactJson(input.configBytes)}}`;
  const history = '[' + statHistory(input).map(jsonHistoryEntry).join(',') + ']';
  return `{"manifest":${manifest},"config":${config},"history":${history}}\n`;
}

// ---------------------------------------------------------------- text

/** Accumulates the `Key: value` lines of umoci's `pprint*` helpers. */
class Printer {
  readonly lines: string[] = [];

  /** `prefix key: v1, v2` (each value quoted when needed; a value with `,` always) or `prefix key:`. */
  kv(prefix: string, key: string, ...values: string[]): void {
    if (values.length === 0) {
      this.lines.push(`${prefix}${key}:`);
      return;
    }
    const quoted = values.map((v) => (v.includes(',') ? goQuote(v) : quoteIfNeeded(v, true)));
    this.lines.push(`${prefix}${key}: ${quoted.join(', ')}`);
  }

  slice(prefix: string, name: string, data: string[] | null | undefined): void {
    if (!data || data.length === 0) return this.kv(prefix, name, '(empty)');
    this.kv(prefix, name);
    for (const line of data) this.lines.push(`${prefix}\t${quoteIfNeeded(line, true)}`);
  }

  map(prefix: string, name: string, data: Record<string, string> | null | undefined): void {
    const keys = sortedKeys(data ?? {});
    if (keys.length === 0) return this.kv(prefix, name, '(empty)');
    this.kv(prefix, name);
    for (const key of keys) this.kv(prefix + '\t', quoteIfNeeded(key, true), data?.[key] ?? '');
  }

  set(prefix: string, name: string, data: Record<string, unknown> | null | undefined): void {
    const keys = sortedKeys(data ?? {});
    if (keys.length === 0) return this.kv(prefix, name, '(empty)');
    this.kv(prefix, name, ...keys);
  }

  /** `name: (N bytes)` and an xxd-style dump of at most 256 bytes. */
  bytes(prefix: string, name: string, data: Buffer): void {
    if (data.length === 0) return this.kv(prefix, name, '(empty)');
    this.lines.push(`${prefix}${name}: (${data.length} bytes)`);
    const inner = prefix + '\t';
    const maxDisplay = 256;
    this.lines.push(...hexdumpLines(inner, data.subarray(0, maxDisplay)));
    if (data.length > maxDisplay) this.lines.push(`${inner}....  (extra ${data.length - maxDisplay} bytes omitted)`);
  }

  platform(prefix: string, p: Partial<Platform>): void {
    this.kv(prefix, 'Platform');
    const inner = prefix + '\t';
    this.kv(inner, 'OS', p.os ?? '');
    if (p['os.version']) this.kv(inner, 'OS Version', p['os.version']);
    if (p['os.features'] && p['os.features'].length > 0) this.kv(inner, 'OS Features', ...p['os.features']);
    let arch = quoteIfNeeded(p.architecture ?? '', true);
    if (p.variant) arch += ` (${quoteIfNeeded(p.variant, false)})`;
    this.lines.push(`${inner}Architecture: ${arch}`);
  }

  descriptor(prefix: string, d: Descriptor): void {
    this.kv(prefix, 'Descriptor');
    const inner = prefix + '\t';
    this.kv(inner, 'Media Type', d.mediaType ?? '');
    if (d.artifactType) this.kv(inner, 'Artifact Type', d.artifactType);
    this.kv(inner, 'Digest', d.digest ?? '');
    this.kv(inner, 'Size', humanSize(d.size ?? 0));
    // umoci passes an empty prefix here, so a descriptor's platform is printed unindented.
    if (d.platform) this.platform('', d.platform);
    if (d.urls && d.urls.length > 0) this.slice(inner, 'URLs', d.urls);
    if (d.annotations && Object.keys(d.annotations).length > 0) this.map(inner, 'Annotations', d.annotations);
    const data = d.data === undefined ? undefined : Buffer.from(d.data, 'base64');
    if (data && data.length > 0) this.bytes(inner, 'Data', data);
  }
}

/**
 * umoci's `xxd`: per 16 bytes, `<prefix><offset as %.4x>: `, the bytes as hex
 * in pairs separated by a space (padded out on a short last line), two
 * spaces, then the bytes as text with non-graphic ones shown as `.`.
 */
export function hexdumpLines(prefix: string, data: Buffer): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < data.length; offset += 16) {
    const chunk = data.subarray(offset, offset + 16);
    let hexPart = '';
    let text = '';
    for (let idx = 0; idx < 16; idx++) {
      if (idx !== 0 && idx % 2 === 0) hexPart += ' ';
      const b = chunk[idx];
      if (b === undefined) {
        hexPart += '  ';
        continue;
      }
      hexPart += b.toString(16).padStart(2, '0');
      if (!isGoGraphic(b)) text += '.';
      else text += b < 0x80 ? String.fromCharCode(b) : '\uFFFD';
    }
    lines.push(`${prefix}${offset.toString(16).padStart(4, '0')}: ${hexPart}  ${text}`);
  }
  return lines;
}

function printManifest(p: Printer, m: Manifest): void {
  p.kv('', 'Schema Version', String(m.schemaVersion ?? 0));
  p.kv('', 'Media Type', m.mediaType ?? '');
  if (m.artifactType) p.kv('', 'Artifact Type', m.artifactType);
  p.kv('', 'Config');
  p.descriptor('\t', m.config);
  if (m.layers && m.layers.length > 0) {
    p.kv('', 'Layers');
    for (const layer of m.layers) p.descriptor('\t', layer);
  }
  if (m.subject) {
    p.kv('', 'Subject');
    p.descriptor('\t', m.subject);
  }
  if (m.annotations && Object.keys(m.annotations).length > 0) p.map('', 'Annotations', m.annotations);
}

function printImage(p: Printer, image: ImageConfig): void {
  if (image.created !== undefined) p.kv('', 'Created', goTime(image.created));
  p.kv('', 'Author', image.author ?? '');
  p.platform('', image);
  const c = image.config ?? {};
  p.kv('', 'Image Config');
  const prefix = '\t';
  p.kv(prefix, 'User', c.User ?? '');
  const escaped = c.ArgsEscaped ? ' (escaped)' : '';
  if (c.Entrypoint && c.Entrypoint.length > 0) p.slice(prefix, 'Entrypoint' + escaped, c.Entrypoint);
  p.slice(prefix, 'Command' + escaped, c.Cmd);
  if (c.WorkingDir) p.kv(prefix, 'Working Directory', c.WorkingDir);
  if (c.Env && c.Env.length > 0) p.slice(prefix, 'Environment', c.Env);
  if (c.StopSignal) p.kv(prefix, 'Stop Signal', c.StopSignal);
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) p.set(prefix, 'Exposed Ports', c.ExposedPorts);
  if (c.Volumes && Object.keys(c.Volumes).length > 0) p.set(prefix, 'Volumes', c.Volumes);
  if (c.Labels && Object.keys(c.Labels).length > 0) p.map(prefix, 'Labels', c.Labels);
}

/** The history table: `tabwriter.NewWriter(w, 4, 2, 1, ' ', 0)`, fields quoted only when needed. */
function historyTable(rows: StatHistoryEntry[]): string {
  let table = 'LAYER\tCREATED\tCREATED BY\tSIZE\tCOMMENT\n';
  for (const row of rows) {
    const created = quoteIfNeeded(row.created === undefined ? '' : goTime(row.created), false);
    const createdBy = quoteIfNeeded(row.created_by ?? '', false);
    const comment = quoteIfNeeded(row.comment ?? '', false);
    let layerId = '<none>';
    let size = '<none>';
    if (!row.empty_layer) {
      layerId = row.layer?.digest ?? '<none>';
      size = row.layer ? humanSize(row.layer.size) : '<none>';
    }
    table += `${layerId}\t${created}\t${createdBy}\t${size}\t${comment}\n`;
  }
  return tabwrite(table, { minwidth: 4, tabwidth: 2, padding: 1, padchar: ' ' });
}

/**
 * `umoci stat` text output (0.6): `== MANIFEST ==` (manifest fields, then the
 * manifest's own descriptor), a blank line and `== CONFIG ==` (image config,
 * then the config descriptor), a blank line and `== HISTORY ==` with the
 * aligned table. Nested fields are indented with tabs. Ends with `\n`. Pure.
 */
export function formatStatText(input: StatInput): string {
  const p = new Printer();
  p.lines.push('== MANIFEST ==');
  printManifest(p, input.manifest);
  p.descriptor('', input.manifestDescriptor);
  p.lines.push('', '== CONFIG ==');
  printImage(p, input.config);
  p.descriptor('', input.configDescriptor);
  p.lines.push('', '== HISTORY ==');
  return p.lines.join('\n') + '\n' + historyTable(statHistory(input));
}
