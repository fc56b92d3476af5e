/**
 * Unit tests of physical memory (src/hw/memory.ts): the sparse DRAM map, little-endian access of
 * every width, block operations across page boundaries, external aborts outside every region,
 * MMIO dispatch and memory-map validation.
 */
import { describe, expect, it } from 'vitest';
import {
  EXTERNAL_ABORT,
  MMIO_FRAME,
  NO_FRAME,
  PhysicalMemory,
  ZERO_FRAME,
  type MmioHandler,
} from '../../src/hw/memory.js';
import { GIB, MIB } from './helpers.js';

const BASE = 0x8_0000_0000;
const SIZE_64G = 64 * GIB;

function bigMemory(): PhysicalMemory {
  return new PhysicalMemory([{ name: 'dram', base: BASE, size: SIZE_64G }]);
}

/** A device that records accesses; register 0x10 is unimplemented. */
function recordingDevice(): MmioHandler & { log: string[]; regs: Map<number, number> } {
  const log: string[] = [];
  const regs = new Map<number, number>([[0x0, 0x1234_5678]]);
  return {
    log,
    regs,
    read32(offset: number): number {
      log.push(`r${offset.toString(16)}`);
      if (offset === 0x10) return EXTERNAL_ABORT;
      return regs.get(offset) ?? 0;
    },
    write32(offset: number, value: number): boolean {
      log.push(`w${offset.toString(16)}=${value.toString(16)}`);
      if (offset === 0x10) return false;
      regs.set(offset, value);
      return true;
    },
  };
}

describe('sparse DRAM', () => {
  it('a 64 GiB map allocates no frame until a granule is written', () => {
    const memory = bigMemory();
    expect(memory.stats()).toEqual({ framesAllocated: 0, dramBytes: SIZE_64G });
    // Reads anywhere, including the last word, see zeros and allocate nothing.
    expect(memory.read32(BASE)).toBe(0);
    expect(memory.read32(BASE + SIZE_64G - 4)).toBe(0);
    expect(memory.read8(BASE + 33 * GIB + 7)).toBe(0);
    expect(memory.read64(BASE + 17 * GIB)).toBe(0n);
    expect(memory.readBytes(BASE + 5 * GIB - 10, 20)).toEqual(new Uint8Array(20));
    expect(memory.stats().framesAllocated).toBe(0);
    // Filling with zero is a no-op on untouched DRAM.
    expect(memory.fill(BASE + GIB, 3 * 4096, 0)).toBe(true);
    expect(memory.stats().framesAllocated).toBe(0);
  });

  it('allocates exactly one frame per touched granule', () => {
    const memory = bigMemory();
    expect(memory.write32(BASE, 1)).toBe(true);
    expect(memory.write32(BASE + 4, 2)).toBe(true); // same granule
    expect(memory.write8(BASE + 4095, 3)).toBe(true); // same granule
    expect(memory.stats().framesAllocated).toBe(1);
    expect(memory.write32(BASE + SIZE_64G - 4, 4)).toBe(true); // last granule of the bank
    expect(memory.write32(BASE + 40 * GIB + 123 * 4096, 5)).toBe(true);
    expect(memory.stats().framesAllocated).toBe(3);
    // A write spanning two granules allocates both.
    expect(memory.writeBytes(BASE + 2 * GIB - 2, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    expect(memory.stats().framesAllocated).toBe(5);
    expect(memory.read32(BASE + SIZE_64G - 4)).toBe(4);
    expect(memory.read32(BASE + 40 * GIB + 123 * 4096)).toBe(5);
  });

  it('keeps the frame of a granule stable while others are allocated (the TLB caches it)', () => {
    const memory = bigMemory();
    const pa = BASE + 3 * GIB;
    const frame = memory.frameOf(pa, true);
    expect(frame).toBeGreaterThan(0);
    for (let i = 1; i <= 600; i++) memory.write32(BASE + i * 8 * MIB, i); // several segments and chunks
    expect(memory.frameOf(pa, false)).toBe(frame);
    expect(memory.frameOf(pa + 4095, true)).toBe(frame);
    expect(memory.frameOf(BASE + 9 * GIB, false)).toBe(ZERO_FRAME);
    expect(memory.frameOf(BASE - 4096, false)).toBe(NO_FRAME);
    for (let i = 1; i <= 600; i++) expect(memory.read32(BASE + i * 8 * MIB)).toBe(i);
  });
});

describe('little-endian access', () => {
  const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 16 * MIB }]);
  const pa = 0x4000_1000;

  it('32-bit words are little-endian in bytes', () => {
    memory.write32(pa, 0x1122_3344);
    expect([0, 1, 2, 3].map((i) => memory.read8(pa + i))).toEqual([0x44, 0x33, 0x22, 0x11]);
    memory.write8(pa + 3, 0xfe);
    expect(memory.read32(pa)).toBe(0xfe22_3344);
  });

  it('32-bit reads are unsigned and writes truncate to 32 bits', () => {
    memory.write32(pa + 8, -1);
    expect(memory.read32(pa + 8)).toBe(0xffff_ffff);
    memory.write32(pa + 8, 0x1_0000_0005);
    expect(memory.read32(pa + 8)).toBe(5);
    memory.write8(pa + 12, 0x1ab);
    expect(memory.read8(pa + 12)).toBe(0xab);
  });

  it('64-bit words are two little-endian halves, low first', () => {
    expect(memory.write64(pa + 16, 0x8877_6655, 0x4433_2211)).toBe(true);
    expect(memory.read64(pa + 16)).toBe(0x4433_2211_8877_6655n);
    expect(memory.read32(pa + 16)).toBe(0x8877_6655);
    expect(memory.read32(pa + 20)).toBe(0x4433_2211);
    expect(memory.read8(pa + 16)).toBe(0x55);
    expect(memory.read8(pa + 23)).toBe(0x44);
    expect(memory.write64Big(pa + 24, 0xffff_ffff_ffff_fffen)).toBe(true);
    expect(memory.read64(pa + 24)).toBe(0xffff_ffff_ffff_fffen);
  });

  it('readDescriptor returns both halves of an aligned 64-bit word, as a walker reads it', () => {
    memory.write64Big(pa + 32, 0x8000_0001_f000_0003n);
    expect(memory.readDescriptor(pa + 32)).toBe(true);
    expect(memory.descriptorLow >>> 0).toBe(0xf000_0003);
    expect(memory.descriptorHigh >>> 0).toBe(0x8000_0001);
    expect(memory.readDescriptor(0x5000_0000)).toBe(false); // outside DRAM
  });
});

describe('block operations across page boundaries', () => {
  function fresh(): PhysicalMemory {
    return new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 16 * MIB }]);
  }
  const pageEnd = 0x4000_2000;

  it('writeBytes/readBytes round-trip across three pages', () => {
    const memory = fresh();
    const data = Uint8Array.from({ length: 4096 + 10 }, (_, i) => (i * 7 + 3) & 0xff);
    const at = pageEnd - 5;
    expect(memory.writeBytes(at, data)).toBe(true);
    expect(memory.readBytes(at, data.length)).toEqual(data);
    // The word that straddles the first boundary is assembled from both pages.
    expect(memory.read8(pageEnd - 1)).toBe(data[4]);
    expect(memory.read8(pageEnd)).toBe(data[5]);
    // Neighbouring bytes were not touched.
    expect(memory.read8(at - 1)).toBe(0);
    expect(memory.read8(at + data.length)).toBe(0);
  });

  it('fill covers exactly the range, across pages', () => {
    const memory = fresh();
    expect(memory.fill(pageEnd - 3, 4096 + 6, 0xa5)).toBe(true);
    expect(memory.read8(pageEnd - 4)).toBe(0);
    expect(memory.read8(pageEnd - 3)).toBe(0xa5);
    expect(memory.read8(pageEnd + 4096 + 2)).toBe(0xa5);
    expect(memory.read8(pageEnd + 4096 + 3)).toBe(0);
    expect(memory.read32(pageEnd)).toBe(0xa5a5_a5a5);
    // Filling with zero clears written data.
    expect(memory.fill(pageEnd - 2, 4, 0)).toBe(true);
    expect(memory.readBytes(pageEnd - 3, 6)).toEqual(Uint8Array.from([0xa5, 0, 0, 0, 0, 0xa5]));
  });

  it('copy has memmove semantics for overlapping ranges across pages', () => {
    const memory = fresh();
    const src = pageEnd - 100;
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    memory.writeBytes(src, data);
    expect(memory.copy(src + 7, src, 300)).toBe(true); // forward overlap
    expect(memory.readBytes(src + 7, 300)).toEqual(data);
    expect(memory.readBytes(src, 7)).toEqual(data.subarray(0, 7));
    memory.writeBytes(src, data);
    expect(memory.copy(src - 9, src, 300)).toBe(true); // backward overlap
    expect(memory.readBytes(src - 9, 300)).toEqual(data);
  });

  it('zero-length operations succeed and change nothing', () => {
    const memory = fresh();
    expect(memory.readBytes(pageEnd, 0)).toEqual(new Uint8Array(0));
    expect(memory.writeBytes(pageEnd, new Uint8Array(0))).toBe(true);
    expect(memory.fill(pageEnd, 0, 1)).toBe(true);
    expect(memory.stats().framesAllocated).toBe(0);
  });
});

describe('external abort outside every region', () => {
  // Two banks with a gap between them: [1 GiB, 1 GiB + 1 MiB) and [2 GiB, 2 GiB + 1 MiB).
  function twoBanks(): PhysicalMemory {
    return new PhysicalMemory([
      { name: 'a', base: GIB, size: MIB },
      { name: 'b', base: 2 * GIB, size: MIB },
    ]);
  }
  const holes = [0, GIB - 4, GIB + MIB, 1.5 * GIB, 2 * GIB + MIB, 2 ** 48, 2 ** 52 - 4096];

  it('reads return EXTERNAL_ABORT (or undefined) in holes and beyond the map', () => {
    const memory = twoBanks();
    for (const pa of holes) {
      expect(memory.read32(pa)).toBe(EXTERNAL_ABORT);
      expect(memory.read8(pa)).toBe(EXTERNAL_ABORT);
      expect(memory.read64(pa)).toBeUndefined();
      expect(memory.readBytes(pa, 4)).toBeUndefined();
      expect(memory.isDram(pa)).toBe(false);
    }
    expect(EXTERNAL_ABORT).toBeLessThan(0); // no u32 value collides with it
  });

  it('writes return false and write nothing, even when the range starts inside DRAM', () => {
    const memory = twoBanks();
    for (const pa of holes) {
      expect(memory.write32(pa, 1)).toBe(false);
      expect(memory.write8(pa, 1)).toBe(false);
      expect(memory.write64(pa, 1, 2)).toBe(false);
    }
    expect(memory.stats().framesAllocated).toBe(0);
    const lastPage = GIB + MIB - 4096;
    // A block that runs off the end of bank a is refused as a whole.
    expect(memory.writeBytes(lastPage + 4000, new Uint8Array(200).fill(9))).toBe(false);
    expect(memory.fill(lastPage + 4000, 200, 9)).toBe(false);
    expect(memory.stats().framesAllocated).toBe(0);
    expect(memory.readBytes(lastPage + 4000, 96)).toEqual(new Uint8Array(96));
    // A block that spans the gap between the banks is refused too.
    expect(memory.writeBytes(GIB + MIB - 8, new Uint8Array(16))).toBe(false);
    expect(memory.readBytes(GIB + MIB - 8, 16)).toBeUndefined();
    expect(memory.readBytes(GIB + MIB - 8, 8)).toEqual(new Uint8Array(8));
  });

  it('copy is refused when either range leaves DRAM, leaving the destination unchanged', () => {
    const memory = twoBanks();
    memory.fill(GIB, 64, 0x11);
    expect(memory.copy(GIB, GIB + MIB - 16, 32)).toBe(false); // source runs off the bank
    expect(memory.copy(GIB + MIB - 16, GIB, 32)).toBe(false); // destination runs off the bank
    expect(memory.readBytes(GIB + MIB - 16, 16)).toEqual(new Uint8Array(16));
    expect(memory.copy(2 * GIB, GIB, 64)).toBe(true); // between banks is fine
    expect(memory.read32(2 * GIB + 60)).toBe(0x1111_1111);
  });
});

describe('MMIO windows', () => {
  function withDevice(): { memory: PhysicalMemory; device: ReturnType<typeof recordingDevice> } {
    const device = recordingDevice();
    const memory = new PhysicalMemory(
      [{ name: 'dram', base: 0x4000_0000, size: MIB }],
      [{ name: 'uart', base: 0x0900_0000, size: 0x1000, handler: device }],
    );
    return { memory, device };
  }

  it('dispatches 32-bit accesses to the handler with window-relative offsets', () => {
    const { memory, device } = withDevice();
    expect(memory.read32(0x0900_0000)).toBe(0x1234_5678);
    expect(memory.write32(0x0900_0008, 0xffff_ffff)).toBe(true);
    expect(memory.read32(0x0900_0008)).toBe(0xffff_ffff);
    expect(device.log).toEqual(['r0', 'w8=ffffffff', 'r8']);
    expect(memory.frameOf(0x0900_0004, true)).toBe(MMIO_FRAME);
  });

  it('passes a device refusal through as an external abort', () => {
    const { memory } = withDevice();
    expect(memory.read32(0x0900_0010)).toBe(EXTERNAL_ABORT);
    expect(memory.write32(0x0900_0010, 1)).toBe(false);
  });

  it('is not DRAM: bytes, blocks and descriptor reads are refused without reaching the device', () => {
    const { memory, device } = withDevice();
    expect(memory.isDram(0x0900_0000)).toBe(false);
    expect(memory.read8(0x0900_0000)).toBe(EXTERNAL_ABORT);
    expect(memory.write8(0x0900_0000, 1)).toBe(false);
    expect(memory.readBytes(0x0900_0000, 4)).toBeUndefined();
    expect(memory.writeBytes(0x0900_0000, new Uint8Array(4))).toBe(false);
    expect(memory.fill(0x0900_0000, 4, 1)).toBe(false);
    expect(memory.readDescriptor(0x0900_0000)).toBe(false);
    expect(device.log).toEqual([]);
    expect(memory.stats()).toEqual({ framesAllocated: 0, dramBytes: MIB });
    expect(memory.dramRegions()).toEqual([{ name: 'dram', base: 0x4000_0000, size: MIB }]);
  });
});

describe('memory-map validation', () => {
  const handler = recordingDevice();
  it('rejects overlapping regions', () => {
    expect(
      () =>
        new PhysicalMemory([
          { name: 'a', base: 0x4000_0000, size: 2 * MIB },
          { name: 'b', base: 0x4010_0000, size: MIB },
        ]),
    ).toThrow(/overlaps/);
    expect(
      () =>
        new PhysicalMemory(
          [{ name: 'a', base: 0x4000_0000, size: 2 * MIB }],
          [{ name: 'dev', base: 0x401f_f000, size: 0x2000, handler }],
        ),
    ).toThrow(/overlaps/);
    // Given out of order, the overlap is still found.
    expect(
      () =>
        new PhysicalMemory([
          { name: 'high', base: 0x5000_0000, size: MIB },
          { name: 'low', base: 0x4000_0000, size: 0x1000_1000 },
        ]),
    ).toThrow(/overlaps/);
  });

  it('accepts adjacent regions', () => {
    const memory = new PhysicalMemory(
      [
        { name: 'a', base: 0x4000_0000, size: MIB },
        { name: 'b', base: 0x4010_0000, size: MIB },
      ],
      [{ name: 'dev', base: 0x4020_0000, size: 0x1000, handler }],
    );
    expect(memory.writeBytes(0x4010_0000 - 2, Uint8Array.from([1, 2, 3, 4]))).toBe(true);
    expect(memory.read32(0x4010_0000 - 4)).toBe(0x0201_0000);
    expect(memory.dramRegions().map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('rejects misaligned, empty, negative and too-high regions', () => {
    expect(() => new PhysicalMemory([{ name: 'a', base: 0x4000_0800, size: MIB }])).toThrow(/aligned/);
    expect(() => new PhysicalMemory([{ name: 'a', base: 0x4000_0000, size: MIB + 4 }])).toThrow(/aligned/);
    expect(() => new PhysicalMemory([], [{ name: 'd', base: 0x100, size: 0x1000, handler }])).toThrow(
      /aligned/,
    );
    expect(() => new PhysicalMemory([{ name: 'a', base: 0x4000_0000, size: 0 }])).toThrow(RangeError);
    expect(() => new PhysicalMemory([{ name: 'a', base: -4096, size: 4096 }])).toThrow(RangeError);
    expect(() => new PhysicalMemory([{ name: 'a', base: 2 ** 52 - 4096, size: 8192 }])).toThrow(/2\^52/);
    expect(() => new PhysicalMemory([{ name: 'a', base: 0.5, size: 4096 }])).toThrow(RangeError);
  });
});
