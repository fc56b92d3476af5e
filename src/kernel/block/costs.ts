/**
 * Kernel work of the block layer in simulated cycles, on top of what the PE charges itself (the
 * MMIO register accesses, the copies, and under rcontainer the gate and the mini-OS's AES-GCM).
 * The device's own time is its latencyCycles (0 by default): DMA costs the PE nothing.
 */
export const BlockCost = {
  /** Building and submitting one request (bio, request queue, completion bookkeeping). */
  command: 1200,
  /** One turn of the STATUS polling loop while a command is in flight. */
  poll: 100,
  /** Page-cache bookkeeping of one page written back, read in or evicted (radix tree, LRU, flags). */
  page: 300,
} as const;
