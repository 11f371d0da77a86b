/** The host platform in OCI terms (GOARCH names), as umoci's `new` records it. */
const ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

export interface HostPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** containerd's default platform: arm64 hosts get variant v8, 32-bit arm its ARM version. */
export function hostPlatform(): HostPlatform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const host: HostPlatform = { os, architecture };
  if (architecture === 'arm64') host.variant = 'v8';
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>)['arm_version'];
    host.variant = `v${typeof v === 'string' || typeof v === 'number' ? v : 7}`;
  }
  return host;
}
