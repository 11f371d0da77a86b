/**
 * ocikit's public library API. The CLI is a thin layer over these verbs.
 * Importing this module loads nothing heavy: schemas are compiled on first use.
 */
export { OcikitError, DigestMismatchError, type ErrorCode } from './errors.js';
export type { Logger } from './util/log.js';
export { ocikitVersion } from './util/package-root.js';
export type { Descriptor, Manifest, Index, ImageConfig, History, Platform, Annotations } from './oci/types.js';
export { ANNOTATION_REF_NAME, IMAGE_SPEC_VERSION, RUNTIME_SPEC_VERSION } from './oci/types.js';
export { MediaType, DockerMediaType, ociEquivalent } from './oci/media-types.js';
export { parseImageName, parseLayoutPath, isValidRefName, type ImageName } from './oci/refname.js';
export { Layout } from './store/layout.js';
export { putBlob, openBlob, readBlob, blobSize, deleteBlob, listBlobs } from './store/blobs.js';
export { readIndex, updateIndex } from './store/index-file.js';
export { resolveTag, findTag, type DescriptorPath } from './image/resolve.js';
export { listTags, setTag, removeTag } from './image/tags.js';
export { newImage } from './image/new-image.js';
export { configImage, CLEAR_KEYS, type ConfigEdits, type ConfigOptions, type ConfigResult } from './image/config-edit.js';
export { checkHistoryFlags, type HistoryOptions } from './image/history.js';
export { gc, type GcResult } from './image/gc.js';
export { statImage } from './image/stat.js';
export { formatStatText, formatStatJson, type StatInput } from './image/stat-format.js';
export { validateLayout, assertValid, type ValidateResult } from './image/validate.js';
export { listImages, type ImageSummary } from './image/list.js';
export { unpackBundle, unpackRootfs, resolveImage, type UnpackOptions, type ResolvedImage } from './bundle/unpack.js';
export { repackBundle, type RepackOptions, type RepackResult } from './bundle/repack.js';
export { readBundleMeta, writeBundleMeta, type BundleMeta } from './bundle/meta.js';
export { extractImage, resolveForPlatform, type ExtractOptions } from './bundle/extract.js';
export { saveImage, parseArchiveFormat, type ArchiveFormat, type SaveOptions, type SaveResult } from './archive/save.js';
export { loadArchive, type LoadOptions, type LoadResult } from './archive/load.js';
export { parseReference, formatReference, familiarReference, apiHost, type Reference } from './registry/reference.js';
export { findCredentials, type Credentials } from './registry/credentials.js';
export { storeCredentials, removeCredentials } from './registry/credential-store.js';
export { RegistryClient, type ClientOptions } from './registry/client.js';
export { Repository, type FetchedManifest } from './registry/remote.js';
export type { TlsOptions } from './registry/transport.js';
export { pullImage, type PullOptions, type PullResult } from './registry/pull.js';
export { pushImage, type PushOptions, type PushResult } from './registry/push.js';
export { makeProgress, type Progress, type ProgressMode } from './registry/progress.js';
export { insertLayer, addTarLayer, type InsertOptions, type AddLayerOptions } from './image/insert.js';
export { parseCompress, type CompressFlag } from './image/add-layer.js';
export { runtimeConfig } from './runtime/convert.js';
export { encodeRuntimeConfig } from './runtime/encode.js';
export { parseIdMapping, mapOptionsFrom, type IdMapping, type MapOptions } from './runtime/id-map.js';
export { walkTree } from './mtree/walk.js';
export { compareTree, type MtreeDifference } from './mtree/compare.js';
export { parseMtree } from './mtree/parse.js';
export { formatMtree } from './mtree/format.js';
