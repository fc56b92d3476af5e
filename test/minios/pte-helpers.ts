// Descriptor builders and tree walks shared by the mini-OS tests that exercise rc_set_pte.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { split64 } from '../../src/hw/bits.js';
import { leafDescriptor } from '../../src/hw/layout.js';
import { ExecPolicy, RcCall } from '../../src/minios/abi.js';
import { writeImageArguments, type TestPlatform } from './platform-helpers.js';

/** Bytes mapped by one entry at levels 0..3 (4 KB granule). */
export const SPAN = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12] as const;
export const TWO48 = 2 ** 48;

/** A descriptor as its two 32-bit halves. */
export type Pair = readonly [number, number];

/** SHA-256 of a text, as the image lists carry binary digests. */
export const digest = (text: string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(text).digest());

/** An EL0 page/block descriptor (nG, PXN); read-only unless `write`, executable only with `exec`. */
export function userLeaf(pa: number, { write = true, exec = false, level = 3 as 1 | 2 | 3 } = {}): Pair {
  return leafDescriptor(pa, { ap: write ? 1 : 3, notGlobal: true, pxn: true, uxn: !exec }, level);
}

/** A kernel page/block descriptor (EL1 only, UXN). */
export function kernelLeaf(pa: number, { write = true, exec = false, level = 3 as 1 | 2 | 3 } = {}): Pair {
  return leafDescriptor(pa, { ap: write ? 0 : 2, pxn: !exec, uxn: true }, level);
}

/** A table descriptor to the table at `pa`. */
export function tableDesc(pa: number): Pair {
  const [low, high] = split64(pa);
  return [(low | 3) >>> 0, high];
}

/** `va` rounded down to the span of a level-`level` entry (two's-complement VAs included). */
export function alignDown(va: number, level: number): number {
  const bits = va < 0 ? va + TWO48 : va;
  return va - (bits % SPAN[level]!);
}

/** rc_set_pte(space, tid, va, low, high, level) through the gate. */
export function setPte(
  p: TestPlatform,
  space: number,
  tid: number,
  va: number,
  d: Pair,
  level: number,
): number {
  return p.call(RcCall.SetPte, space, tid, va, d[0], d[1], level);
}

/** Link `tables[level]` under `va` at levels 0..n-1 of the tree of (space, tid); each must succeed. */
export function linkTables(
  p: TestPlatform,
  space: number,
  tid: number,
  va: number,
  tables: readonly number[],
): void {
  tables.forEach((table, level) =>
    expect(setPte(p, space, tid, alignDown(va, level), tableDesc(table), level)).toBe(0),
  );
}

/** Give a container its shim and bind it to an empty image (exec policy `policy`). */
export function bindContainer(
  p: TestPlatform,
  cid: number,
  policy: number = ExecPolicy.Allow,
  binaries: Uint8Array[] = [],
): void {
  expect(p.call(RcCall.CreateShim, cid)).toBe(0);
  const args = writeImageArguments(p, binaries, '{}');
  expect(p.call(RcCall.CreateContainer, cid, args.list, args.config, args.configLength, policy)).toBe(0);
}

/** True when the granule at `pa` reads as zeros. */
export const isZero = (p: TestPlatform, pa: number): boolean =>
  p.machine.memory.readBytes(pa, 4096)!.every((b) => b === 0);

/** A valid leaf found by {@link walkTree}. */
export interface Leaf {
  readonly va: number;
  readonly pa: number;
  readonly level: number;
  readonly low: number;
  readonly high: number;
}

/**
 * Walk a tree in simulated memory from `table` at `level`; collects the PAs of its tables and its
 * valid leaves, skipping the level-0 entries in `skipL0`.
 */
export function walkTree(
  p: TestPlatform,
  table: number,
  level: number,
  vaBase: number,
  tables: Set<number>,
  leaves: Leaf[],
  skipL0: readonly number[] = [],
): void {
  const memory = p.machine.memory;
  tables.add(table);
  for (let i = 0; i < 512; i++) {
    if (level === 0 && skipL0.includes(i)) continue;
    const low = memory.read32(table + 8 * i);
    const high = memory.read32(table + 8 * i + 4);
    if ((low & 1) === 0) continue;
    const va = vaBase + i * SPAN[level]!;
    const address = (high & 0xfffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0);
    if (level < 3 && (low & 2) !== 0) walkTree(p, address, level + 1, va, tables, leaves);
    else if (level > 0) leaves.push({ va, pa: address, level, low, high });
  }
}

/** Every granule a leaf maps. */
export const granulesOf = (leaf: Leaf): number[] =>
  Array.from({ length: SPAN[leaf.level]! / 4096 }, (_, k) => leaf.pa + k * 4096);
