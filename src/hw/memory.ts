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
const FRAME_INVERSE = 1 / FRAME_BYTES;
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
  /** DRAM: per 512-granule chunk, its number in the chunk pool (-1 = untouched); undefined for MMIO. */
  readonly chunks: Int32Array | undefined;
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
/** Largest region: its granule index must fit in 31 bits for the bit arithmetic of frameOf. */
const MAX_REGION = 2 ** 43;

/** The machine's physical memory. All addresses are physical; nothing here checks permissions. */
export class PhysicalMemory {
  /** Backing store, exposed so that the PE's TLB-hit path can read a cached frame directly. */
  readonly segments: Uint32Array[] = [new Uint32Array(FRAME_WORDS * FRAMES_PER_SEGMENT)];
  /**
   * The same segments viewed as Int32Array: table walkers read descriptors as signed words, which
   * V8 keeps as small integers (a u32 above 2^31 would be boxed on every read).
   */
  private readonly signedSegments: Int32Array[] = [new Int32Array(this.segments[0]!.buffer)];
  private readonly regions: Region[] = [];
  private nextFrame = 1; // frame 0 is the shared zero frame and is never written
  /** Frame numbers of every allocated chunk: chunk c covers entries [c * 512, c * 512 + 512). */
  private chunkPool = new Int32Array(CHUNK_GRANULES * 64);
  private chunksAllocated = 0;
  // The DRAM region hit last, unpacked into fields so the hot path reads numbers and typed arrays.
  private lastRegion: Region | undefined;
  private fastBase = 0;
  private fastEnd = 0;
  private fastBaseGranule = 0;
  private fastChunks: Int32Array = new Int32Array(0);

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
    if (size > MAX_REGION) throw new RangeError(`memory map: region '${name}' is larger than 8 TiB`);
    const granules = size / FRAME_BYTES;
    const chunks = handler ? undefined : new Int32Array(Math.ceil(granules / CHUNK_GRANULES)).fill(-1);
    this.regions.push({
      name,
      base,
      end: base + size,
      baseGranule: base / FRAME_BYTES,
      granules,
      chunks,
      handler,
    });
  }

  /** Statistics (allocated frames, DRAM size). */
  stats(): MemoryStats {
    let dramBytes = 0;
    for (const region of this.regions) if (region.chunks) dramBytes += region.end - region.base;
    return { framesAllocated: this.nextFrame - 1, dramBytes };
  }

  /** The DRAM banks of the map, in address order. */
  dramRegions(): DramRegionSpec[] {
    return this.regions
      .filter((r) => r.chunks)
      .map((r) => ({ name: r.name, base: r.base, size: r.end - r.base }));
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
        if (region.chunks !== undefined) {
          this.fastBase = region.base;
          this.fastEnd = region.end;
          this.fastBaseGranule = region.baseGranule;
          this.fastChunks = region.chunks;
        }
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
    const frame = this.existingFrame(pa);
    return frame === ZERO_FRAME && allocate ? this.allocateGranule(pa) : frame;
  }

  /** frameOf without allocation, kept small so that V8 inlines it into the walkers. */
  private existingFrame(pa: number): number {
    if (pa < this.fastBase || pa >= this.fastEnd) {
      const region = this.regionOf(pa);
      if (region === undefined) return NO_FRAME;
      if (region.chunks === undefined) return MMIO_FRAME;
    }
    // Region sizes are capped at 2^43 bytes, so the granule index fits in 31 bits.
    const granule = (Math.floor(pa * FRAME_INVERSE) - this.fastBaseGranule) | 0;
    const chunk = this.fastChunks[granule >>> 9]!;
    return chunk < 0 ? ZERO_FRAME : this.chunkPool[(chunk << 9) | (granule & (CHUNK_GRANULES - 1))]!;
  }

  /** Give the DRAM granule containing `pa` (known to be in the fast region) its frame. */
  private allocateGranule(pa: number): number {
    const granule = (Math.floor(pa * FRAME_INVERSE) - this.fastBaseGranule) | 0;
    let chunk = this.fastChunks[granule >>> 9]!;
    if (chunk < 0) {
      chunk = this.allocateChunk();
      this.fastChunks[granule >>> 9] = chunk;
    }
    const frame = this.allocateFrame();
    this.chunkPool[(chunk << 9) | (granule & (CHUNK_GRANULES - 1))] = frame;
    return frame;
  }

  private allocateChunk(): number {
    const chunk = this.chunksAllocated++;
    if ((chunk + 1) * CHUNK_GRANULES > this.chunkPool.length) {
      const grown = new Int32Array(this.chunkPool.length * 2);
      grown.set(this.chunkPool);
      this.chunkPool = grown;
    }
    return chunk;
  }

  private allocateFrame(): number {
    const frame = this.nextFrame++;
    const segment = Math.floor(frame / FRAMES_PER_SEGMENT);
    if (segment === this.segments.length) {
      const words = new Uint32Array(FRAME_WORDS * FRAMES_PER_SEGMENT);
      this.segments.push(words);
      this.signedSegments.push(new Int32Array(words.buffer));
    }
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
    if (frame >= 0) return this.frameWord(frame, (pa - Math.floor(pa / FRAME_BYTES) * FRAME_BYTES) >>> 2);
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
      this.setFrameWord(frame, (pa - Math.floor(pa / FRAME_BYTES) * FRAME_BYTES) >>> 2, value >>> 0);
      return true;
    }
    if (frame === MMIO_FRAME) {
      const region = this.regionOf(pa)!;
      return region.handler!.write32(pa - region.base, value >>> 0);
    }
    return false;
  }

  /**
   * Read the aligned 64-bit word at `pa` from DRAM, as a table walker does. Returns false on an
   * external abort (outside DRAM); otherwise the halves are in {@link descriptorLow} and
   * {@link descriptorHigh} as signed 32-bit values (use `>>> 0` for the unsigned value).
   */
  readDescriptor(pa: number): boolean {
    const frame = this.existingFrame(pa);
    if (frame < 0) return false;
    const segment = this.signedSegments[frame >>> 8]!;
    const index = ((frame & 0xff) << 10) | ((pa - Math.floor(pa * FRAME_INVERSE) * FRAME_BYTES) >>> 2);
    this.descriptorLow = segment[index]!;
    this.descriptorHigh = segment[index + 1]!;
    return true;
  }

  /** Low half (signed) of the last successful {@link readDescriptor}. */
  descriptorLow = 0;
  /** High half (signed) of the last successful {@link readDescriptor}. */
  descriptorHigh = 0;

  /** Read one byte; EXTERNAL_ABORT outside DRAM (bytes of MMIO are not supported). */
  read8(pa: number): number {
    const frame = this.frameOf(pa, false);
    if (frame < 0) return EXTERNAL_ABORT;
    const offset = pa - Math.floor(pa / FRAME_BYTES) * FRAME_BYTES;
    return (this.frameWord(frame, offset >>> 2) >>> ((offset & 3) * 8)) & 0xff;
  }

  /** Write one byte; false outside DRAM. */
  write8(pa: number, value: number): boolean {
    const frame = this.frameOf(pa, true);
    if (frame <= 0) return false;
    const offset = pa - Math.floor(pa / FRAME_BYTES) * FRAME_BYTES;
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
    // Check both halves first so that a failing write changes nothing.
    if (this.frameOf(pa, false) === NO_FRAME || this.frameOf(pa + 4, false) === NO_FRAME) return false;
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
      const offset = at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES;
      const chunk = Math.min(length - done, FRAME_BYTES - offset);
      if (frame !== ZERO_FRAME) {
        const segment = this.segments[frame >>> 8]!;
        const view = new Uint8Array(
          segment.buffer,
          segment.byteOffset + ((frame & 0xff) << 12) + offset,
          chunk,
        );
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
      const offset = at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES;
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
      const offset = at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES;
      const chunk = Math.min(length - done, FRAME_BYTES - offset);
      const frame = this.frameOf(at, value !== 0);
      if (frame > 0) {
        const segment = this.segments[frame >>> 8]!;
        new Uint8Array(segment.buffer, segment.byteOffset + ((frame & 0xff) << 12) + offset, chunk).fill(
          value,
        );
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
