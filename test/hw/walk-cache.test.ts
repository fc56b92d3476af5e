// The table-walk cache: a changed table descriptor stays invisible until a TLBI that covers the
// VA, and no walk of another tree or of stale GPT information survives.
import { describe, expect, it } from 'vitest';
import { split64 } from '../../src/hw/bits.js';
import { dataVa, makePeFixture, tableDescriptor } from './helpers.js';

/** Two L3 tables for the 2 MiB region of dataVa(0): the fixture's, and a copy mapping one page elsewhere. */
function swapLevel3(
  fx: ReturnType<typeof makePeFixture>,
  va: number,
  newTarget: number,
): { l2Entry: number; oldL2: bigint; newL2: bigint } {
  const l2Entry = fx.pt.entryPa(fx.root0, va, 2);
  const oldL2 = fx.memory.read64(l2Entry)!;
  const oldL3 = Number(oldL2 & 0x0000_ffff_ffff_f000n);
  const newL3 = fx.pt.newTable();
  fx.memory.writeBytes(newL3, fx.memory.readBytes(oldL3, 4096)!);
  const index = Math.floor(va / 4096) % 512;
  const old = fx.memory.read64(oldL3 + 8 * index)!;
  fx.memory.write64Big(newL3 + 8 * index, (old & ~0x0000_ffff_ffff_f000n) | BigInt(newTarget));
  return { l2Entry, oldL2, newL2: tableDescriptor(newL3) };
}

describe('walk cache', () => {
  it('keeps using a cached level-3 table until TLBI VAE1 of a VA in that region', () => {
    const fx = makePeFixture();
    const a = dataVa(0);
    const b = dataVa(1); // same 2 MiB region, different page
    fx.memory.write32(b, 0x1111);
    fx.memory.write32(dataVa(2), 0x2222);
    expect(fx.pe.load32(a)).toBe(0); // walk: the region's level-3 table goes into the walk cache
    const swap = swapLevel3(fx, b, dataVa(2)); // the new table maps b to dataVa(2)'s page
    fx.memory.write64Big(swap.l2Entry, swap.newL2);
    expect(fx.pe.load32(b)).toBe(0x1111); // TLB miss, but the cached walk still uses the old table
    fx.pe.tlbi('VAE1', a);
    fx.pe.tlbi('VAE1', b);
    expect(fx.pe.load32(b)).toBe(0x2222);
  });

  it('never reuses a walk of another root table', () => {
    const fx = makePeFixture();
    expect(fx.pe.load32(dataVa(0))).toBe(0);
    // A second tree identical to the first except for the level-3 table of the region.
    const root1 = fx.pt.newTable();
    fx.memory.writeBytes(root1, fx.memory.readBytes(fx.root0, 4096)!);
    fx.memory.write32(dataVa(1), 0x1111);
    fx.memory.write32(dataVa(2), 0x2222);
    const l1 = fx.pt.newTable();
    const oldL0 = fx.memory.read64(fx.root0 + 8 * 0)!;
    fx.memory.writeBytes(l1, fx.memory.readBytes(Number(oldL0 & 0x0000_ffff_ffff_f000n), 4096)!);
    fx.memory.write64Big(root1, tableDescriptor(l1));
    const l2 = fx.pt.newTable();
    const l1Index = Math.floor(dataVa(1) / 2 ** 30) % 512;
    const oldL1e = fx.memory.read64(l1 + 8 * l1Index)!;
    fx.memory.writeBytes(l2, fx.memory.readBytes(Number(oldL1e & 0x0000_ffff_ffff_f000n), 4096)!);
    fx.memory.write64Big(l1 + 8 * l1Index, tableDescriptor(l2));
    const l2Index = Math.floor(dataVa(1) / 2 ** 21) % 512;
    const swap = swapLevel3(fx, dataVa(1), dataVa(2));
    fx.memory.write64Big(swap.l2Entry, swap.oldL2); // keep the first tree unchanged
    fx.memory.write64Big(l2 + 8 * l2Index, swap.newL2);
    fx.pe.setSysRegRaw('TTBR0_EL1', ...split64(root1));
    expect(fx.pe.load32(dataVa(1))).toBe(0x2222);
  });

  it('is emptied by TLBI PAALL with the other GPT information', () => {
    const fx = makePeFixture();
    fx.pe.load32(dataVa(0));
    expect(fx.pe.walkCache.lookup(dataVa(0), fx.root0, 2, 0)).toBeGreaterThanOrEqual(0); // NonSecure regime tag = 2
    fx.pe.invalidateGptInfoAll();
    expect(fx.pe.walkCache.lookup(dataVa(0), fx.root0, 2, 0)).toBe(-1);
  });
});
