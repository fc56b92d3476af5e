/**
 * Physical memory: a memory map of DRAM banks and MMIO windows below 2^52.
 *
 * DRAM is sparse and zero-initialised: a 4 KiB frame of backing store is allocated the first time a
 * granule is written (or is pinned by a TLB fill), so a 64 GiB map costs only what is touched. Frames
 * live in 1 MiB `Uint32Array` segments and are never freed or moved, so a frame number cached by a
 * TLB entry stays valid for the life of the machine (the cache is a speed device, not architecture).
 * An access outside every region is an external abort, reported as a value.
 */
import { assert } from './bits.js';

/** Size of a backing frame; the smallest granule the model supports (4 KiB). */
export const FRAME_BYTES = 4096;
const FRAME_WORDS = FRAME_BYTES / 4;
const FRAMES_PER_SEGMENT = 256;
const CHUNK_GRANULES = 512;

/** Returned by 32-bit reads when the address is outside every region (no u32 value is negative). */
export const EXTERNAL_ABORT = -1;
/** Frame number meaning "DRAM never written": reads see zeros. */
export const ZERO_FRAME = 0;
/** Frame number meaning "not DRAM": outside every region. */
export const NO_FRAME = -1;
/** Frame number meaning "an MMIO window": accesses go to the device. */
export const MMIO_FRAME = -2;

/** A device register window. Offsets are relative to the window base; values are u32. */
export interface MmioHandler {
  /** Read the 32-bit register at `offset`; return EXTERNAL_ABORT for an unimplemented one. */
  read32(offset: number): number;
  /** Write the 32-bit register at `offset`; return false for an unimplemented one. */
  write32(offset: number, value: number): boolean;
}

/** A DRAM bank of the memory map. */
export interface DramRegionSpec {
  readonly name: string;
  readonly base: number;
  readonly size: number;
}

/** An MMIO window of the memory map. */
export interface MmioRegionSpec {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly handler: MmioHandler;
}

interface Region {
  readonly name: string;
  readonly base: number;
  readonly end: number;
  readonly baseGranule: number;
  readonly granules: number;
  /** DRAM: per 512-granule chunk, the frame number of each granule (0 = untouched). */
  readonly chunks: (Int32Array | undefined)[] | undefined;
  readonly handler: MmioHandler | undefined;
}

/** Statistics of physical memory. */
export interface MemoryStats {
  /** Frames of backing store allocated (4 KiB each). */
  framesAllocated: number;
  /** Bytes of DRAM in the memory map. */
  dramBytes: number;
}

const MAX_PA = 2 ** 52;

/** The machine's physical memory. All addresses are physical; nothing here checks permissions. */
export class PhysicalMemory {
  /** Backing store, exposed so that the PE's TLB-hit path can read a cached frame directly. */
  readonly segments: Uint32Array[] = [new Uint32Array(FRAME_WORDS * FRAMES_PER_SEGMENT)];
  private readonly regions: Region[] = [];
  private nextFrame = 1; // frame 0 is the shared zero frame and is never written
  private lastRegion: Region | undefined;

  constructor(dram: readonly DramRegionSpec[], mmio: readonly MmioRegionSpec[] = []) {
    for (const bank of dram) this.addRegion(bank.name, bank.base, bank.size, undefined);
    for (const window of mmio) this.addRegion(window.name, window.base, window.size, window.handler);
    this.regions.sort((a, b) => a.base - b.base);
    for (let i = 1; i < this.regions.length; i++) {
      const previous = this.regions[i - 1]!;
      const current = this.regions[i]!;
      if (current.base < previous.end) {
        throw new RangeError(`memory map: region '${current.name}' overlaps '${previous.name}'`);
      }
    }
  }

  private addRegion(name: string, base: number, size: number, handler: MmioHandler | undefined): void {
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0) {
      throw new RangeError(`memory map: region '${name}' needs a non-negative base and a positive size`);
    }
    if (base % FRAME_BYTES !== 0 || size % FRAME_BYTES !== 0) {
      throw new RangeError(`memory map: region '${name}' must be 4 KiB aligned in base and size`);
    }
    if (base + size > MAX_PA) throw new RangeError(`memory map: region '${name}' extends beyond 2^52`);
    const granules = size / FRAME_BYTES;
    const chunks = handler ? undefined : new Array<Int32Array | undefined>(Math.ceil(granules / CHUNK_GRANULES));
    this.regions.push({ name, base, end: base + size, baseGranule: base / FRAME_BYTES, granules, chunks, handler });
  }

  /** Statistics (allocated frames, DRAM size). */
  stats(): MemoryStats {
    let dramBytes = 0;
    for (const region of this.regions) if (region.chunks) dramBytes += region.end - region.base;
    return { framesAllocated: this.nextFrame - 1, dramBytes };
  }

  /** The DRAM banks of the map, in address order. */
  dramRegions(): DramRegionSpec[] {
    return this.regions.filter((r) => r.chunks).map((r) => ({ name: r.name, base: r.base, size: r.end - r.base }));
  }

  /** True when `pa` lies in a DRAM bank. */
  isDram(pa: number): boolean {
    return this.regionOf(pa)?.chunks !== undefined;
  }

  private regionOf(pa: number): Region | undefined {
    const last = this.lastRegion;
    if (last !== undefined && pa >= last.base && pa < last.end) return last;
    for (const region of this.regions) {
      if (pa >= region.base && pa < region.end) {
        this.lastRegion = region;
        return region;
      }
    }
    return undefined;
  }

  /**
   * The frame that backs the 4 KiB granule containing `pa`: a positive frame number, ZERO_FRAME for
   * DRAM never written (when `allocate` is false), MMIO_FRAME for a device window, NO_FRAME outside
   * every region.
   */
  frameOf(pa: number, allocate: boolean): number {
    const region = this.regionOf(pa);
    if (region === undefined) return NO_FRAME;
    const chunks = region.chunks;
    if (chunks === undefined) return MMIO_FRAME;
    const granule = Math.floor(pa / FRAME_BYTES) - region.baseGranule;
    const chunkIndex = Math.floor(granule / CHUNK_GRANULES);
    let chunk = chunks[chunkIndex];
    if (chunk === undefined) {
      if (!allocate) return ZERO_FRAME;
      chunk = new Int32Array(CHUNK_GRANULES);
      chunks[chunkIndex] = chunk;
    }
    const slot = granule - chunkIndex * CHUNK_GRANULES;
    let frame = chunk[slot]!;
    if (frame === ZERO_FRAME && allocate) {
      frame = this.allocateFrame();
      chunk[slot] = frame;
    }
    return frame;
  }

  private allocateFrame(): number {
    const frame = this.nextFrame++;
    const segment = Math.floor(frame / FRAMES_PER_SEGMENT);
    if (segment === this.segments.length) this.segments.push(new Uint32Array(FRAME_WORDS * FRAMES_PER_SEGMENT));
    assert(segment < this.segments.length, 'frame segments grow one at a time');
    return frame;
  }

  /** Word `index` (0..1023) of a frame (frame >= 0). */
  frameWord(frame: number, index: number): number {
    return this.segments[frame >>> 8]![((frame & 0xff) << 10) | index]!;
  }

  /** Set word `index` of a frame (frame > 0). */
  setFrameWord(frame: number, index: number, value: number): void {
    this.segments[frame >>> 8]![((frame & 0xff) << 10) | index] = value;
  }

  /** Read an aligned 32-bit word; EXTERNAL_ABORT outside every region or for a failing device. */
  read32(pa: number): number {
    const frame = this.frameOf(pa, false);
    const offset = pa % FRAME_BYTES;
    if (frame >= 0) return this.frameWord(frame, offset >>> 2);
    if (frame === MMIO_FRAME) {
      const region = this.regionOf(pa)!;
      return region.handler!.read32(pa - region.base);
    }
    return EXTERNAL_ABORT;
  }

  /** Write an aligned 32-bit word; false on an external abort. */
  write32(pa: number, value: number): boolean {
    const frame = this.frameOf(pa, true);
    if (frame > 0) {
      this.setFrameWord(frame, (pa % FRAME_BYTES) >>> 2, value >>> 0);
      return true;
    }
    if (frame === MMIO_FRAME) {
      const region = this.regionOf(pa)!;
      return region.handler!.write32(pa - region.base, value >>> 0);
    }
    return false;
  }

  /** Read one byte; EXTERNAL_ABORT outside DRAM (bytes of MMIO are not supported). */
  read8(pa: number): number {
    const frame = this.frameOf(pa, false);
    if (frame < 0) return EXTERNAL_ABORT;
    const offset = pa % FRAME_BYTES;
    return (this.frameWord(frame, offset >>> 2) >>> ((offset & 3) * 8)) & 0xff;
  }

  /** Write one byte; false outside DRAM. */
  write8(pa: number, value: number): boolean {
    const frame = this.frameOf(pa, true);
    if (frame <= 0) return false;
    const offset = pa % FRAME_BYTES;
    const shift = (offset & 3) * 8;
    const word = this.frameWord(frame, offset >>> 2);
    this.setFrameWord(frame, offset >>> 2, ((word & ~(0xff << shift)) | ((value & 0xff) << shift)) >>> 0);
    return true;
  }

  /** Read a 64-bit little-endian word as BigInt (I/O edge helper); undefined on an abort. */
  read64(pa: number): bigint | undefined {
    const lo = this.read32(pa);
    const hi = this.read32(pa + 4);
    if (lo < 0 || hi < 0) return undefined;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Write a 64-bit little-endian word given as halves; false on an abort. */
  write64(pa: number, lo: number, hi: number): boolean {
    return this.write32(pa, lo) && this.write32(pa + 4, hi);
  }

  /** Write a 64-bit little-endian BigInt (I/O edge helper). */
  write64Big(pa: number, value: bigint): boolean {
    return this.write64(pa, Number(value & 0xffff_ffffn), Number((value >> 32n) & 0xffff_ffffn));
  }

  /** Copy `bytes` out of DRAM starting at `pa`; undefined if any byte is outside DRAM. */
  readBytes(pa: number, length: number): Uint8Array | undefined {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = pa + done;
      const frame = this.frameOf(at, false);
      if (frame < 0) return undefined;
      const offset = at % FRAME_BYTES;
      const chunk = Math.min(length - done, FRAME_BYTES - offset);
      if (frame !== ZERO_FRAME) {
        const segment = this.segments[frame >>> 8]!;
        const view = new Uint8Array(segment.buffer, segment.byteOffset + ((frame & 0xff) << 12) + offset, chunk);
        out.set(view, done);
      }
      done += chunk;
    }
    return out;
  }

  /** Copy `data` into DRAM at `pa`; false (and nothing written) if any byte is outside DRAM. */
  writeBytes(pa: number, data: Uint8Array): boolean {
    if (!this.allDram(pa, data.length)) return false;
    let done = 0;
    while (done < data.length) {
      const at = pa + done;
      const frame = this.frameOf(at, true);
      const offset = at % FRAME_BYTES;
      const chunk = Math.min(data.length - done, FRAME_BYTES - offset);
      const segment = this.segments[frame >>> 8]!;
      new Uint8Array(segment.buffer, segment.byteOffset + ((frame & 0xff) << 12) + offset, chunk).set(
        data.subarray(done, done + chunk),
      );
      done += chunk;
    }
    return true;
  }

  /** Fill `length` bytes at `pa` with `value`; false (nothing written) if any byte is outside DRAM. */
  fill(pa: number, length: number, value: number): boolean {
    if (!this.allDram(pa, length)) return false;
    let done = 0;
    while (done < length) {
      const at = pa + done;
      const offset = at % FRAME_BYTES;
      const chunk = Math.min(length - done, FRAME_BYTES - offset);
      const frame = this.frameOf(at, value !== 0);
      if (frame > 0) {
        const segment = this.segments[frame >>> 8]!;
        new Uint8Array(segment.buffer, segment.byteOffset + ((frame & 0xff) << 12) + offset, chunk).fill(value);
      }
      done += chunk;
    }
    return true;
  }

  /** Copy `length` bytes from `srcPa` to `dstPa` (memmove semantics); false if either range leaves DRAM. */
  copy(dstPa: number, srcPa: number, length: number): boolean {
    if (!this.allDram(srcPa, length) || !this.allDram(dstPa, length)) return false;
    const data = this.readBytes(srcPa, length)!;
    return this.writeBytes(dstPa, data);
  }

  private allDram(pa: number, length: number): boolean {
    if (length === 0) return true;
    for (let at = pa - (pa % FRAME_BYTES); at < pa + length; at += FRAME_BYTES) {
      if (this.regionOf(at)?.chunks === undefined) return false;
    }
    return true;
  }
}
