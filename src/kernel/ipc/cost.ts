/**
 * Kernel work charged by pipes and sockets, in PE cycles (DESIGN.md §6). The copies themselves are
 * charged by the PE (BytesCopied); these cover the bookkeeping around them.
 */

/** Entering a pipe or socket operation (fd lookup, locking, wake-ups). */
export const IPC_CALL_CYCLES = 300;
/** Per byte moved through a pipe or socket buffer (ring arithmetic, accounting). */
export const IPC_BYTE_CYCLES = 0.25;
/** Setting up a pipe or socket (allocating its objects, installing descriptors). */
export const IPC_CREATE_CYCLES = 1200;
