/**
 * Kernel work of the VFS in simulated cycles, charged with `ctx.charge` so that file-system calls
 * take plausible simulated time. Byte copies through the PE are charged by the PE itself as well
 * (Ev.BytesCopied); these constants are the kernel's own bookkeeping on top of that.
 */

/** Looking up one path component (dcache hash, permission check, mount crossing). */
export const PATH_COMPONENT_CYCLES = 200;
/** Per byte of file data copied between user memory and file pages (copy loop overhead). */
export const BYTE_COPY_CYCLES = 0.25;
/** Creating, removing, linking or renaming a directory entry (inode and dentry bookkeeping). */
export const INODE_OP_CYCLES = 400;
/** A descriptor-table operation (lookup, install, close). */
export const FD_OP_CYCLES = 60;
/** Emitting one linux_dirent64 record. */
export const DIRENT_CYCLES = 50;
/** Per byte of a generated procfs file (formatting). */
export const PROC_TEXT_CYCLES_PER_BYTE = 2;
/** Fixed part of an overlay copy-up (creating the upper inode, copying attributes). */
export const COPY_UP_CYCLES = 1500;
/** Creating a mount or a file system instance. */
export const MOUNT_CYCLES = 2000;
