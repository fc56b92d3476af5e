/**
 * Physical page frames the kernel hands out, as a stack of free frame numbers in a typed array
 * (allocation and release are O(1) and deterministic: lowest addresses first).
 */
import type { PlatformLayout } from '../firmware/layout.js';
import type { MemoryRange } from '../kernel/hooks.js';

const PAGE = 4096;

/** A pool of 4 KiB frames over some physical ranges. */
export class FrameAllocator {
  private readonly free: Float64Array;
  private top = 0;
  readonly total: number;

  constructor(ranges: readonly MemoryRange[]) {
    const frames: number[] = [];
    for (const range of ranges) {
      const first = Math.ceil(range.base / PAGE);
      const last = Math.floor((range.base + range.size) / PAGE);
      for (let f = first; f < last; f++) frames.push(f);
    }
    this.total = frames.length;
    this.free = new Float64Array(frames.length);
    // Highest first in the array, so that pops return the lowest addresses first.
    for (let i = 0; i < frames.length; i++) this.free[i] = frames[frames.length - 1 - i]!;
    this.top = frames.length;
  }

  /** A free frame's PA, or undefined when none is left. */
  allocate(): number | undefined {
    if (this.top === 0) return undefined;
    return this.free[--this.top]! * PAGE;
  }

  /**
   * `count` physically contiguous frames (the first PA), taken from the top of the free stack when
   * they happen to be contiguous there (true right after boot), else undefined.
   */
  allocateContiguous(count: number): number | undefined {
    if (this.top < count) return undefined;
    const first = this.free[this.top - 1]!;
    for (let i = 1; i < count; i++) if (this.free[this.top - 1 - i] !== first + i) return undefined;
    this.top -= count;
    return first * PAGE;
  }

  /** Return a frame. */
  release(pa: number): void {
    this.free[this.top++] = pa / PAGE;
  }

  /** Frames still free. */
  get available(): number {
    return this.top;
  }
}

/** Split `ranges` into a first part of `bytes` (2 MiB aligned) and the rest. */
export function splitRanges(
  ranges: readonly MemoryRange[],
  bytes: number,
): { first: MemoryRange[]; rest: MemoryRange[] } {
  const first: MemoryRange[] = [];
  const rest: MemoryRange[] = [];
  let left = bytes;
  for (const range of ranges) {
    if (left <= 0) {
      rest.push(range);
      continue;
    }
    const take = Math.min(left, range.size);
    first.push({ base: range.base, size: take });
    if (take < range.size) rest.push({ base: range.base + take, size: range.size - take });
    left -= take;
  }
  return { first, rest };
}

/** `ranges` minus every range of `holes`. */
export function subtractRanges(ranges: readonly MemoryRange[], holes: readonly MemoryRange[]): MemoryRange[] {
  let out = [...ranges];
  for (const hole of holes) {
    const next: MemoryRange[] = [];
    for (const r of out) {
      const end = r.base + r.size;
      const holeEnd = hole.base + hole.size;
      if (holeEnd <= r.base || hole.base >= end) {
        next.push(r);
        continue;
      }
      if (hole.base > r.base) next.push({ base: r.base, size: hole.base - r.base });
      if (holeEnd < end) next.push({ base: holeEnd, size: end - holeEnd });
    }
    out = next;
  }
  return out;
}

/** Align each range inward to `alignment`. */
export function alignRanges(ranges: readonly MemoryRange[], alignment: number): MemoryRange[] {
  const out: MemoryRange[] = [];
  for (const r of ranges) {
    const base = Math.ceil(r.base / alignment) * alignment;
    const end = Math.floor((r.base + r.size) / alignment) * alignment;
    if (end > base) out.push({ base, size: end - base });
  }
  return out;
}

/** The kernel's two memory zones. */
export interface MemoryZones {
  /** Linear-mapped: the kernel's data (and, under rcontainer, host processes' pages). */
  readonly kernel: FrameAllocator;
  readonly kernelRanges: MemoryRange[];
  /** Never mapped by the kernel: user pages of containers, translation tables. */
  readonly user: FrameAllocator;
  readonly userRanges: MemoryRange[];
}

/**
 * Split the DRAM the firmware left to the kernel (every bank minus the Root region, the mini-OS
 * region, the kernel image, the GPT tables and `reserved`) into the kernel zone (`kernelZoneBytes`,
 * by default a quarter of it, at least 16 MiB, 2 MiB aligned) and the user zone.
 */
export function memoryZones(
  layout: PlatformLayout,
  reserved: readonly MemoryRange[],
  kernelZoneBytes: number | undefined,
): MemoryZones {
  const mib2 = 2 ** 21;
  const holes = [
    layout.root,
    layout.minios,
    layout.kernel,
    layout.firmwareImage,
    layout.gptL0,
    layout.gptL1,
    ...reserved,
  ];
  const free = alignRanges(subtractRanges(layout.dramBanks, holes), mib2);
  const freeBytes = free.reduce((sum, r) => sum + r.size, 0);
  const zone = kernelZoneBytes ?? Math.max(16 * 2 ** 20, Math.floor(freeBytes / 4 / mib2) * mib2);
  const { first, rest } = splitRanges(free, zone);
  return {
    kernel: new FrameAllocator(first),
    kernelRanges: first,
    user: new FrameAllocator(rest),
    userRanges: rest,
  };
}

/** One bounce buffer per PE: two contiguous kernel-zone pages, at their linear-map VA. */
export function bounceBuffers(
  count: number,
  frames: FrameAllocator,
  linearVa: number,
): { readonly pa: number; readonly kva: number; readonly bytes: number }[] {
  return Array.from({ length: count }, () => {
    const pa = frames.allocateContiguous(2);
    if (pa === undefined) throw new Error('kernel: no memory for bounce buffers');
    return { pa, kva: linearVa + pa, bytes: 2 * PAGE };
  });
}
