/** Media types of image-spec 1.1.1, and the Docker types read as their OCI equivalents. */
export const MediaType = {
  descriptor: 'application/vnd.oci.descriptor.v1+json',
  layoutHeader: 'application/vnd.oci.layout.header.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  empty: 'application/vnd.oci.empty.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  layerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  layerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  layerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
} as const;

export const DockerMediaType = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  manifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  layerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const dockerToOci: Record<string, string> = {
  [DockerMediaType.manifest]: MediaType.manifest,
  [DockerMediaType.manifestList]: MediaType.index,
  [DockerMediaType.config]: MediaType.config,
  [DockerMediaType.layerGzip]: MediaType.layerGzip,
  [DockerMediaType.layerForeignGzip]: MediaType.layerNonDistributableGzip,
};

/** The OCI media type a (possibly Docker) media type is read as; unknown types map to themselves. */
export function ociEquivalent(mediaType: string): string {
  return dockerToOci[mediaType] ?? mediaType;
}

export function isManifestType(mediaType: string): boolean {
  return ociEquivalent(mediaType) === MediaType.manifest;
}

export function isIndexType(mediaType: string): boolean {
  return ociEquivalent(mediaType) === MediaType.index;
}

export type Compression = 'none' | 'gzip' | 'zstd';

/** The compression a layer media type implies, or undefined if it is not a layer type ocikit reads. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (ociEquivalent(mediaType)) {
    case MediaType.layer:
    case MediaType.layerNonDistributable:
      return 'none';
    case MediaType.layerGzip:
    case MediaType.layerNonDistributableGzip:
      return 'gzip';
    case MediaType.layerZstd:
    case MediaType.layerNonDistributableZstd:
      return 'zstd';
    default:
      return undefined;
  }
}
