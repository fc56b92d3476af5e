/**
 * The mini-OS's allocator of its own memory (MINI granules): naturally aligned power-of-two blocks
 * of at least 4 KiB, for GPT tables (an L1 table must be aligned to its size) and records. A
 * binary buddy allocator over the MINI regions the mini-OS was given at boot or took later.
 */

/** A buddy allocator over [base, base + size) regions with naturally aligned blocks. */
export class MiniHeap {
  private readonly minShift = 12;
  /** Free block bases per size shift. */
  private readonly free = new Map<number, Set<number>>();
  private bytesFree = 0;
  private bytesTotal = 0;

  /** Add a region (4 KiB aligned) to the heap. */
  addRegion(base: number, size: number): void {
    let at = base;
    const end = base + size;
    while (at < end) {
      // The largest naturally aligned block that starts at `at` and fits.
      let shift = this.minShift;
      while (shift < 40 && at % 2 ** (shift + 1) === 0 && at + 2 ** (shift + 1) <= end) shift++;
      this.release(at, shift);
      at += 2 ** shift;
    }
    this.bytesTotal += size;
  }

  /** Allocate `bytes` (rounded up to a power of two ≥ 4 KiB), aligned to that size; undefined if none. */
  allocate(bytes: number): number | undefined {
    const shift = Math.max(this.minShift, Math.ceil(Math.log2(bytes)));
    let from = shift;
    while (from < 41 && (this.free.get(from)?.size ?? 0) === 0) from++;
    if (from >= 41) return undefined;
    const set = this.free.get(from)!;
    const base = set.values().next().value as number;
    set.delete(base);
    // Split down to the requested size, returning the upper halves.
    for (let s = from - 1; s >= shift; s--) this.insert(base + 2 ** s, s);
    this.bytesFree -= 2 ** shift;
    return base;
  }

  /** Return a block allocated with `bytes`. */
  freeBlock(base: number, bytes: number): void {
    const shift = Math.max(this.minShift, Math.ceil(Math.log2(bytes)));
    this.release(base, shift);
  }

  private release(base: number, shift: number): void {
    this.bytesFree += 2 ** shift;
    let at = base;
    let s = shift;
    // Merge with the buddy while it is free.
    for (;;) {
      const buddy = at % 2 ** (s + 1) === 0 ? at + 2 ** s : at - 2 ** s;
      const set = this.free.get(s);
      if (set === undefined || !set.has(buddy)) break;
      set.delete(buddy);
      at = Math.min(at, buddy);
      s++;
    }
    this.insert(at, s);
  }

  private insert(base: number, shift: number): void {
    let set = this.free.get(shift);
    if (set === undefined) {
      set = new Set();
      this.free.set(shift, set);
    }
    set.add(base);
  }

  /** Bytes currently free. */
  get available(): number {
    return this.bytesFree;
  }

  /** Bytes ever added. */
  get total(): number {
    return this.bytesTotal;
  }
}
