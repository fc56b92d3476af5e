/**
 * What an open /proc/<pid>/ns/<kind> file refers to: one namespace of one task, for setns(2).
 */

/** Namespace kinds with their CLONE_NEW* flag. */
export const NS_KINDS = {
  mnt: 0x20000,
  uts: 0x4000000,
  ipc: 0x8000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
} as const;
/** A namespace kind. */
export type NsKind = keyof typeof NS_KINDS;

/** The private data of an open namespace file. */
export class NsHandle {
  /** The namespace object itself (kept alive while the file is open). */
  readonly ns: object;
  readonly kind: NsKind;

  constructor(kind: NsKind, ns: object) {
    this.kind = kind;
    this.ns = ns;
  }
}
