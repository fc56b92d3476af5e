/**
 * A location in the mount tree: a mount and an inode of its file system (Linux's struct path).
 */
import type { Inode } from './inode.js';
import type { Mount } from './mount.js';

/** A (mount, inode) pair. */
export interface PathRef {
  readonly mount: Mount;
  readonly inode: Inode;
}

/** True if both name the same place. */
export function sameRef(a: PathRef, b: PathRef): boolean {
  return a.mount === b.mount && a.inode === b.inode;
}
