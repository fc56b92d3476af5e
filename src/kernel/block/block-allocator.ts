/**
 * Which blocks of one owner's disk are in use: a bitmap in JS (block numbers are metadata, not file
 * contents) with a next-fit cursor.
 *
 * SIMPLIFICATION: the allocation state is not persisted on the disk (no on-disk bitmap or inode
 * table): the disk holds the page cache's blocks for the life of the simulated system only.
 */
export class BlockAllocator {
  /** Blocks of the disk. */
  readonly blocks: number;
  private readonly used: Uint8Array;
  private cursor = 0;
  private count = 0;

  constructor(blocks: number) {
    this.blocks = blocks;
    this.used = new Uint8Array(blocks);
  }

  /** Blocks in use. */
  get inUse(): number {
    return this.count;
  }

  /** A free block, now in use; undefined when the disk is full. */
  allocate(): number | undefined {
    for (let i = 0; i < this.blocks; i++) {
      const block = (this.cursor + i) % this.blocks;
      if (this.used[block] === 0) {
        this.used[block] = 1;
        this.count++;
        this.cursor = (block + 1) % this.blocks;
        return block;
      }
    }
    return undefined;
  }

  /** Give block `block` back (a free or out-of-range block is a simulator bug). */
  release(block: number): void {
    if (this.used[block] !== 1) throw new Error(`block allocator: block ${block} is not in use`);
    this.used[block] = 0;
    this.count--;
  }

  /** True when `block` is in use. */
  isUsed(block: number): boolean {
    return this.used[block] === 1;
  }
}
