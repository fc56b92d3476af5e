/**
 * `rcontainer bench hw`: host speed of the machine model's memory path, measured in this process
 * with the method of shared/spec/costs.md §A4.1 (one warm-up run, then the median of timed runs
 * of many operations; inputs pre-generated with xorshift32; a checksum defeats dead-code removal).
 *
 * - rawReadNs: a random read of a 256 MiB Uint32Array (costs.md A4.2 i-a), the host's floor.
 * - tlbHitLoadNs: ProcessingElement.load32 on pages already in the TLB (512 pages, 1,024 entries).
 * - tlbMissLoadNs: load32 that always misses the TLB and the walk cache (pages 2 MiB apart), so each
 *   one walks four levels with a GPC on each descriptor fetch and on the output.
 * - tlbMissWalkCachedNs: load32 that misses the TLB but finds its level-3 table in the walk cache
 *   (a sweep over consecutive pages), the common case of a TLB capacity miss.
 * - gpcLookupNs: GranuleProtectionCheck.check of random PAs over a 64 GiB DRAM with 4 KiB granules.
 * - tlbiPaallNs: TLBI PAALL at EL3 on a 1,024-entry TLB.
 */
import { split64 } from '../../hw/bits.js';
import { Machine } from '../../hw/machine.js';
import { GptLayout, PageAllocator, PageTableLayout, TCR_EL1_48BIT } from '../../hw/layout.js';
import { Gpi, Pas } from '../../hw/pas.js';

/** Results in host nanoseconds per operation. */
export interface HwBenchResult {
  rawReadNs: number;
  tlbHitLoadNs: number;
  tlbMissLoadNs: number;
  tlbMissWalkCachedNs: number;
  gpcLookupNs: number;
  tlbiPaallNs: number;
}

/** Options of the benchmark. */
export interface HwBenchOptions {
  /** Timed runs per benchmark (the median is reported). */
  runs: number;
  /** Host clock in nanoseconds (injected: the model itself never reads a clock). */
  now: () => bigint;
}

const DRAM_BASE = 0x8_0000_0000;
const DRAM_SIZE = 64 * 2 ** 30;

function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** Median of `runs` timings of `body` (ns per op), after one warm-up call. */
function measure(options: HwBenchOptions, ops: number, body: () => number): number {
  let sink = body();
  const samples: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    const start = options.now();
    sink ^= body();
    samples.push(Number(options.now() - start) / ops);
  }
  if (sink === 0.5) console.log('unreachable'); // keep the checksum alive
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** A 64 GiB Non-secure machine with a GPT over all DRAM and a PE at EL1, ready for loads. */
function buildMachine(): { machine: Machine; tables: PageTableLayout; gpt: GptLayout } {
  const machine = new Machine({
    paRangeBits: 48,
    dram: [{ name: 'dram', base: DRAM_BASE, size: DRAM_SIZE }],
    pes: 1,
    tlbEntries: 1024, // the machine defaults: 1,024 TLB entries, 4,096 GPT-information entries
  });
  const allocator = new PageAllocator(DRAM_BASE, 64 * 2 ** 20);
  // PPS = 1 TB (0b010), PGS = 4 KB, L0GPTSZ = 1 GB: one 128 KiB L1 table per GiB of DRAM.
  const gpt = new GptLayout(machine.memory, allocator, { pps: 0b010, pgs: 0, l0gptsz: 0 });
  for (let gib = 0; gib < DRAM_SIZE / 2 ** 30; gib++)
    gpt.setGranule(DRAM_BASE + gib * 2 ** 30, Gpi.NonSecure, Gpi.NonSecure);
  const tables = new PageTableLayout(machine.memory, allocator);
  const pe = machine.pes[0]!;
  pe.setSysRegRaw('GPTBR_EL3', ...split64(gpt.gptbr()));
  pe.setSysRegRaw('GPCCR_EL3', gpt.gpccr(), 0);
  pe.setSysRegRaw('SCR_EL3', 1, 0); // Non-secure below EL3
  pe.setSysRegRaw('TCR_EL1', TCR_EL1_48BIT[0], TCR_EL1_48BIT[1]);
  pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
  pe.setSysRegRaw('SCTLR_EL1', 1, 0);
  pe.reset(1);
  return { machine, tables, gpt };
}

/** Run the hardware benchmark. */
export function runHwBench(options: HwBenchOptions): HwBenchResult {
  const ops = 1 << 20;
  const next = xorshift32(0x9e3779b9);

  // Raw floor: random reads of a 256 MiB typed array with pre-generated indices.
  const raw = new Uint32Array((256 * 2 ** 20) / 4);
  for (let i = 0; i < raw.length; i += 1024) raw[i] = i;
  const rawIndex = new Uint32Array(ops);
  for (let i = 0; i < ops; i++) rawIndex[i] = next() % raw.length;
  const rawReadNs = measure(options, ops, () => {
    let sum = 0;
    for (let i = 0; i < ops; i++) sum = (sum + raw[rawIndex[i]!]!) | 0;
    return sum;
  });

  const { machine, tables } = buildMachine();
  const pe = machine.pes[0]!;
  const dataBase = DRAM_BASE + 2 ** 30;

  // TLB hits: 512 pages at consecutive VAs (distinct TLB indices), touched once to fill the TLB.
  const hitPages = 512;
  const hitBase = 0x10_0000_0000;
  for (let p = 0; p < hitPages; p++) tables.map(hitBase + p * 4096, dataBase + p * 4096, { ap: 0 });
  const hitVa = new Float64Array(ops);
  for (let i = 0; i < ops; i++) hitVa[i] = hitBase + (next() % hitPages) * 4096 + (next() % 1024) * 4;
  for (let p = 0; p < hitPages; p++) pe.load32(hitBase + p * 4096);
  const tlbHitLoadNs = measure(options, ops, () => {
    let sum = 0;
    for (let i = 0; i < ops; i++) sum = (sum + pe.load32(hitVa[i]!)) | 0;
    return sum;
  });

  // Full misses: 1,024 pages 2 MiB apart (each with its own level-3 table). They share two TLB
  // indices and overflow the 256-entry walk cache, so every load walks all four levels with a GPC
  // on every descriptor fetch and on the output.
  const missOps = ops / 4;
  const fullBase = 0x20_0000_0000;
  for (let p = 0; p < 1024; p++) tables.map(fullBase + p * 2 ** 21, dataBase + 2 ** 30 + p * 4096, { ap: 0 });
  const fullVa = new Float64Array(missOps);
  for (let i = 0; i < missOps; i++) fullVa[i] = fullBase + (i % 1024) * 2 ** 21;
  const tlbMissLoadNs = measure(options, missOps, () => {
    let sum = 0;
    for (let i = 0; i < missOps; i++) sum = (sum + pe.load32(fullVa[i]!)) | 0;
    return sum;
  });

  // TLB capacity misses: a sweep over 2,048 consecutive pages with a 1,024-entry direct-mapped TLB:
  // every load finds its entry evicted, but its level-3 table is in the walk cache.
  const sweepPages = 2048;
  const sweepBase = 0x30_0000_0000;
  for (let p = 0; p < sweepPages; p++)
    tables.map(sweepBase + p * 4096, dataBase + 2 ** 31 + p * 4096, { ap: 0 });
  const sweepVa = new Float64Array(missOps);
  for (let i = 0; i < missOps; i++) sweepVa[i] = sweepBase + (i % sweepPages) * 4096;
  const tlbMissWalkCachedNs = measure(options, missOps, () => {
    let sum = 0;
    for (let i = 0; i < missOps; i++) sum = (sum + pe.load32(sweepVa[i]!)) | 0;
    return sum;
  });

  // GPC lookups: random PAs across 64 GiB, Non-secure access.
  const gpc = pe.gpc;
  const gpcPa = new Float64Array(ops);
  for (let i = 0; i < ops; i++) gpcPa[i] = DRAM_BASE + (next() % (DRAM_SIZE / 4096)) * 4096;
  const gpcLookupNs = measure(options, ops, () => {
    let sum = 0;
    for (let i = 0; i < ops; i++) sum = (sum + gpc.check(gpcPa[i]!, Pas.NonSecure, Pas.NonSecure)) | 0;
    return sum;
  });

  // TLBI PAALL at EL3 over the 1,024-entry TLB.
  pe.reset(3);
  const tlbiOps = 1 << 14;
  const tlbiPaallNs = measure(options, tlbiOps, () => {
    for (let i = 0; i < tlbiOps; i++) pe.tlbi('PAALL');
    return tlbiOps;
  });

  return { rawReadNs, tlbHitLoadNs, tlbMissLoadNs, tlbMissWalkCachedNs, gpcLookupNs, tlbiPaallNs };
}
