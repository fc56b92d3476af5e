/**
 * Inode numbers of files that have no file-system inode (pipes, sockets: Linux's pipefs and
 * sockfs), counted per kernel so that two simulations in one process number them alike.
 */
import type { KernelServices } from '../core/ctx.js';

/** First inode number handed out (well clear of the VFS's numbers, as pipefs inodes are). */
const FIRST_ANON_INODE = 0x10_0000;

/** Next inode number per kernel (weakly held: a dropped kernel takes its counter with it). */
const nextInode = new WeakMap<KernelServices, number>();

/** A fresh inode number for a pipe or socket of `kernel`. */
export function anonInode(kernel: KernelServices): number {
  const ino = nextInode.get(kernel) ?? FIRST_ANON_INODE;
  nextInode.set(kernel, ino + 1);
  return ino;
}
