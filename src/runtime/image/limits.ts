/**
 * Bounds on what an image may contain, checked while layers are read (before their content is
 * buffered) and while they are unpacked. The defaults suit the simulated machine: its programs are
 * small and its DRAM is 1 GiB.
 */

/** Bounds on an image's layers. */
export interface UnpackLimits {
  /** Largest regular file. */
  readonly maxFileBytes: number;
  /** Largest total of file content over all layers of an image. */
  readonly maxImageBytes: number;
  /** Most tar entries over all layers of an image (whiteouts and directories included). */
  readonly maxEntries: number;
  /** Longest entry path, symlink target or hard-link target (bytes of UTF-16 code units). */
  readonly maxPathLength: number;
}

/** The default bounds: 64 MiB per file, 256 MiB and 65,536 entries per image, 4,096-character paths. */
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxFileBytes: 64 * 1024 * 1024,
  maxImageBytes: 256 * 1024 * 1024,
  maxEntries: 65_536,
  maxPathLength: 4096,
};

/** Most bytes a decompressed layer tar may have: content plus at most 1 KiB of header and padding per entry. */
export function maxTarBytes(limits: UnpackLimits): number {
  return limits.maxImageBytes + limits.maxEntries * 1024 + 1024;
}

/** Bounds on an image archive (`docker save` tarball or OCI layout tar) read by `import`. */
export const ARCHIVE_LIMITS = {
  maxEntries: 16_384,
  maxEntryBytes: maxTarBytes(DEFAULT_UNPACK_LIMITS),
  maxTotalBytes: 1024 * 1024 * 1024,
} as const;
