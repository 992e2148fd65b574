// The host's architecture in the kernel's (and seccomp's) names.

export type Arch = 'x86_64' | 'aarch64';

/** null on an architecture sbx's seccomp policies do not cover. */
export function hostArch(): Arch | null {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : null;
}
