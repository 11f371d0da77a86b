/**
 * OCI image-spec 1.1.1 types. Field order in these interfaces follows the Go
 * structs of image-spec's specs-go, which is the order umoci serialises them in
 * (see oci/go-json.ts).
 */

export type Annotations = Record<string, string>;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Annotations;
  /** base64 of the embedded content */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface Index {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageConfigConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
}

export interface History {
  /** RFC 3339 string exactly as stored (never re-parsed: a Date loses nanoseconds) */
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  /** RFC 3339 string exactly as stored */
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config: ImageConfigConfig;
  rootfs: { type: string; diff_ids: string[] | null };
  history?: History[];
}

export interface OciLayoutFile {
  imageLayoutVersion: string;
}

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const IMAGE_SPEC_VERSION = '1.1.1';
export const RUNTIME_SPEC_VERSION = '1.2.1';
