/**
 * Validation of OCI documents against the JSON schemas vendored, unchanged,
 * under `<package root>/schemas/` (see schemas/README.md).
 *
 * Importing this module costs nothing: each kind's validator is loaded only
 * when a document of that kind is first validated, once per process.
 *
 * The validators are generated at build time: `npm run build` runs
 * scripts/build-schemas.mjs, which compiles each kind with ajv's standalone
 * mode into `<package root>/dist/src/oci/schema-validators/<kind>.js`. Loading
 * one costs a few milliseconds, where importing ajv and compiling the schemas
 * costs ~150 ms on every CLI run. The generated code needs only ajv-formats'
 * format table (and could need ajv's small runtime helpers), not ajv itself
 * nor the schema files. They are found from the package root, not from this
 * module, because this module also runs bundled into another file.
 *
 * Fallback, kept ONLY for when the generated module of a kind does not exist
 * (a source checkout that was never built, run through a TypeScript loader):
 * the schemas are then compiled at run time with ajv, by the same rules as the
 * build. Any other failure to load a generated module is an internal error,
 * never a silent fallback. test/oci/schema.test.ts checks that both give the
 * same answers.
 *
 * The same loading rules serve the build and the fallback (createAjv). Two
 * things are changed in the loaded copies, never in the vendored files:
 * - every file is registered under one base URL plus its spec folder and file
 *   name, and the `id` keywords inside the files are removed, because upstream
 *   resolves refs such as `defs-descriptor.json#/definitions/annotations` by
 *   file name while ajv would resolve them against the nearest `id`, a URL no
 *   file has;
 * - the manifest schema's `"layers": {"minItems": 1}` is dropped (see
 *   acceptEmptyLayers).
 * ajv's strict schema check is off because the schemas carry keywords ajv does
 * not know, and its meta-schema check is left to the tests (see newAjv).
 */
import { access, readdir, readFile } from 'node:fs/promises';
import type { CodeOptions, ErrorObject } from 'ajv-draft-04';
import { packageRoot as findPackageRoot } from '../util/package-root.js';
import { OcikitError } from '../errors.js';

/**
 * An ajv-draft-04 instance. Type-only: nothing is loaded by this line. (The
 * type query sees the module's own exports, whose `default` is the class; the
 * dynamic import in newAjv sees them wrapped once more.)
 */
type AjvDraft04 = InstanceType<(typeof import('ajv-draft-04'))['default']>;

/** The documents ocikit validates; each names one vendored top-level schema. */
export type SchemaKind = 'manifest' | 'index' | 'config' | 'layout' | 'descriptor' | 'runtime-config';

/**
 * The base every schema file is registered under, followed by its spec folder
 * and file name. Both specs have a `defs.json` and a `config-schema.json`, so
 * the folder is part of the key and relative refs stay inside their own spec.
 * The `.invalid` host is never fetched: ajv resolves refs only among the
 * schemas added to it.
 */
const BASE_URL = 'https://ocikit.invalid/schemas/';

/** The spec folders under `schemas/`; every `*.json` file in them is registered. */
const SPEC_DIRS = ['image-spec', 'runtime-spec'] as const;

/** The top-level schema of each kind, relative to `schemas/`. */
const SCHEMA_FILES: Record<SchemaKind, string> = {
  manifest: 'image-spec/image-manifest-schema.json',
  index: 'image-spec/image-index-schema.json',
  config: 'image-spec/config-schema.json',
  layout: 'image-spec/image-layout-schema.json',
  descriptor: 'image-spec/content-descriptor.json',
  'runtime-config': 'runtime-spec/config-schema.json',
};

/**
 * Where the generated validators are, relative to the package root;
 * scripts/build-schemas.mjs writes them there, one `<kind>.js` per kind, each
 * with its validator as default export. Under dist/src/ so that they are
 * packaged (package.json "files").
 */
const GENERATED_DIR = 'dist/src/oci/schema-validators/';

/**
 * A validator, generated or compiled: what both ajv's standalone code and
 * ajv.compile give. `errors` is set by each failed call.
 */
type Validator = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * The validator of each kind, loaded on first use of that kind; the promise is
 * shared by concurrent first calls and removed if loading failed, so that a
 * later call retries.
 */
const validators = new Map<SchemaKind, Promise<Validator>>();

/** The fallback's ajv instance (see loadAjv); reset if loading failed so a later call retries. */
let loading: Promise<AjvDraft04> | undefined;

/**
 * Problems found validating `value` against the vendored schema of that kind;
 * [] when valid. Each problem is one line: `<json pointer or "(root)">: <message>`,
 * in ajv's order, without duplicates. `value` is not modified. Schemas are
 * loaded and compiled once per process, lazily on first use. Throws INTERNAL
 * only if the vendored schemas cannot be found or compiled (a broken install).
 */
export async function schemaProblems(kind: SchemaKind, value: unknown): Promise<string[]> {
  const validate = await validatorFor(kind);
  if (validate(value)) return [];
  // ajv replaces `validate.errors` on each call; validation is synchronous, so
  // no other call can run between validate() and this read.
  const problems = (validate.errors ?? []).map(formatProblem);
  if (problems.length === 0) problems.push('(root): invalid'); // defence in depth: ajv always says why
  return [...new Set(problems)];
}

/**
 * Throws OcikitError('SCHEMA_INVALID', `${what}: <first problem> (and N more)`)
 * if `value` does not match the schema of `kind`; the "(and N more)" part only
 * when there are more. Returns normally when valid.
 */
export async function assertSchema(kind: SchemaKind, value: unknown, what: string): Promise<void> {
  const problems = await schemaProblems(kind, value);
  if (problems.length === 0) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new OcikitError('SCHEMA_INVALID', `${what}: ${problems[0]}${more}`);
}

/** One ajv error as `<json pointer or "(root)">: <message>`. */
function formatProblem(err: ErrorObject): string {
  const where = err.instancePath === '' ? '(root)' : err.instancePath;
  return `${where}: ${err.message ?? `fails "${err.keyword}"`}`;
}

function validatorFor(kind: SchemaKind): Promise<Validator> {
  let validator = validators.get(kind);
  if (validator === undefined) {
    validator = loadValidator(kind);
    validators.set(kind, validator);
    validator.catch(() => {
      validators.delete(kind);
    });
  }
  return validator;
}

/** The generated validator of `kind`, or, only if it was not generated, one compiled now. */
async function loadValidator(kind: SchemaKind): Promise<Validator> {
  return (await loadGenerated(kind)) ?? (await compileValidator(kind));
}

/**
 * Imports the validator that scripts/build-schemas.mjs generated for `kind`;
 * undefined only if its file does not exist (not built). Throws INTERNAL if
 * the file exists but cannot be loaded or has no validator.
 */
async function loadGenerated(kind: SchemaKind): Promise<Validator | undefined> {
  const url = new URL(`${GENERATED_DIR}${kind}.js`, await packageRoot());
  let mod: { default?: unknown };
  try {
    mod = (await import(url.href)) as { default?: unknown };
  } catch (err) {
    if (!(await exists(url))) return undefined;
    throw new OcikitError('INTERNAL', `[internal error] load schema validator ${kind}: ${String(err)}`, { cause: err });
  }
  if (typeof mod.default !== 'function') {
    throw new OcikitError('INTERNAL', `[internal error] schema validator ${kind} exports no function`);
  }
  return mod.default as Validator;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await access(url);
    return true;
  } catch {
    return false;
  }
}

/** The fallback: compiles the schema of `kind` with ajv, loading ajv and every schema file first. */
async function compileValidator(kind: SchemaKind): Promise<Validator> {
  const ajv = await loadAjv();
  let validate: Validator | undefined;
  try {
    validate = ajv.getSchema(BASE_URL + SCHEMA_FILES[kind]);
  } catch (err) {
    throw new OcikitError('INTERNAL', `[internal error] compile schema ${SCHEMA_FILES[kind]}: ${String(err)}`, {
      cause: err,
    });
  }
  if (validate === undefined) {
    throw new OcikitError('INTERNAL', `[internal error] schema ${SCHEMA_FILES[kind]} is not registered`);
  }
  return validate;
}

/**
 * For scripts/build-schemas.mjs only; not part of the library API (src/index.ts
 * does not export it). An ajv instance with every vendored schema registered by
 * the rules above and `code` as its code options (the build passes
 * `{ source: true, esm: true }`), and the key of each kind's top-level schema,
 * for `ajv.getSchema`.
 */
export async function schemasForBuild(
  code: CodeOptions,
): Promise<{ ajv: AjvDraft04; keys: Record<SchemaKind, string> }> {
  const ajv = await createAjv(code);
  const keys = Object.fromEntries(
    Object.entries(SCHEMA_FILES).map(([kind, file]) => [kind, BASE_URL + file]),
  ) as Record<SchemaKind, string>;
  return { ajv, keys };
}

function loadAjv(): Promise<AjvDraft04> {
  if (loading === undefined) {
    loading = createAjv();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/**
 * Imports ajv, then reads and registers every vendored schema file (without
 * compiling any); `code` is passed to ajv as its code options.
 */
async function createAjv(code?: CodeOptions): Promise<AjvDraft04> {
  const ajv = await newAjv(code);
  const schemasDir = new URL('schemas/', await packageRoot());
  for (const spec of SPEC_DIRS) {
    const dir = new URL(`${spec}/`, schemasDir);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    } catch (err) {
      throw new OcikitError('INTERNAL', `[internal error] read schemas/${spec}: ${String(err)}`, { cause: err });
    }
    for (const name of names) {
      const key = `${spec}/${name}`;
      let schema: unknown;
      try {
        schema = JSON.parse(await readFile(new URL(name, dir), 'utf8'));
      } catch (err) {
        throw new OcikitError('INTERNAL', `[internal error] read schema ${key}: ${String(err)}`, { cause: err });
      }
      if (!isObject(schema)) throw new OcikitError('INTERNAL', `[internal error] schema ${key} is not an object`);
      // The top-level `id` goes too: the key below takes its place.
      delete schema['id'];
      stripIds(schema);
      if (key === SCHEMA_FILES.manifest) acceptEmptyLayers(schema);
      try {
        ajv.addSchema(schema, BASE_URL + key);
      } catch (err) {
        throw new OcikitError('INTERNAL', `[internal error] register schema ${key}: ${String(err)}`, { cause: err });
      }
    }
  }
  return ajv;
}

/**
 * A draft-04 ajv with the formats the schemas use (`date-time`, `uri`). For
 * standalone code, ajv-formats sets `code.formats` itself, to
 * `require("ajv-formats/dist/formats").fullFormats`.
 */
async function newAjv(code?: CodeOptions): Promise<AjvDraft04> {
  const [draft04, formats] = await Promise.all([import('ajv-draft-04'), import('ajv-formats')]);
  // Both are CommonJS modules whose `module.exports` is the class (or plugin)
  // and also carries it as `.default`; from ESM, `default` is `module.exports`,
  // so `.default.default` is the export at run time and in TypeScript's types.
  const Ajv = draft04.default.default;
  const addFormats = formats.default.default;
  const ajv = new Ajv({
    // Report every problem, not just the first.
    allErrors: true,
    // Strict mode refuses keywords it does not know, and the upstream schemas
    // have some: image-spec's defs.json gives `base64` a `"media":
    // {"binaryEncoding": "base64"}` annotation, and runtime-spec keeps each
    // platform's schema under a top-level key (`config-linux.json#/linux`,
    // `#/solaris`, `#/windows`, `#/vm`, `#/zos`). Unknown keywords are only
    // annotations in JSON Schema, so ignoring them is the specified behaviour.
    strictSchema: false,
    // The vendored schemas are fixed files that test/oci/schema.test.ts checks
    // against the draft-04 meta-schema; checking them again on every run would
    // cost each CLI invocation that validates ~45 ms (compiling the meta-schema).
    validateSchema: false,
    // The library never prints; ajv would otherwise warn on the console (for
    // example about an unknown keyword now that strictSchema is off).
    logger: false,
    ...(code === undefined ? {} : { code }),
  });
  addFormats(ajv);
  return ajv;
}

/**
 * image-spec's manifest schema says `"layers": {"minItems": 1}`, but
 * manifest.md only says `layers` SHOULD have an entry, and `umoci new` (which
 * ocikit replaces) writes `"layers": []`. An image made by `new` is valid, so
 * the minimum is dropped here, in memory. Throws INTERNAL if the vendored
 * schema no longer has that shape, so that re-vendoring revisits the decision.
 */
function acceptEmptyLayers(manifest: Record<string, unknown>): void {
  const properties = manifest['properties'];
  const layers = isObject(properties) ? properties['layers'] : undefined;
  if (!isObject(layers) || layers['minItems'] !== 1) {
    throw new OcikitError(
      'INTERNAL',
      `[internal error] ${SCHEMA_FILES.manifest}: expected "layers" with "minItems": 1; revisit acceptEmptyLayers`,
    );
  }
  delete layers['minItems'];
}

/** Keywords whose value maps names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);

/** Keywords whose value is data, never a schema. */
const DATA_KEYWORDS = new Set(['enum', 'required', 'default', 'type']);

/**
 * Removes the `id` keyword from every schema nested in `schema`, in place.
 * Only keyword positions are touched: a property *named* `id` (runtime-spec's
 * state-schema.json and defs-windows.json have one) is a key of a
 * `properties` map and stays. Unknown keys are walked too, because refs may
 * point anywhere in a file (`config-linux.json#/linux`).
 */
function stripIds(schema: Record<string, unknown>): void {
  if (typeof schema['id'] === 'string') delete schema['id'];
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      for (const sub of Object.values(value)) stripIdsIn(sub);
    } else {
      stripIdsIn(value);
    }
  }
}

/** stripIds for a value that may be a schema or an array of schemas. */
function stripIdsIn(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) stripIdsIn(item);
  } else if (isObject(value)) {
    stripIds(value);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The package root (see util/package-root.ts), looked up once per process. */
let root: URL | undefined;
async function packageRoot(): Promise<URL> {
  root ??= findPackageRoot(import.meta.url);
  return root;
}
