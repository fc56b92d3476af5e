/**
 * A short, deterministic tour of the machine model: a GPT in simulated memory, a Non-secure PE
 * reading through its MMU, TLB and GPC, a GPT edit that stays invisible until the matching TLBI,
 * and the exception the GPC then raises (to EL1, or to EL3 when SCR_EL3.GPF = 1).
 * Every value printed is read back from the model.
 */
import { hex, split64 } from '../../hw/bits.js';
import { Ec, esrClass } from '../../hw/exceptions.js';
import { GptLayout, PageAllocator, PageTableLayout, TCR_EL1_48BIT } from '../../hw/layout.js';
import { Machine } from '../../hw/machine.js';
import { Gpi, gpiName } from '../../hw/pas.js';
import type { ProcessingElement } from '../../hw/pe.js';

const DRAM = 0x8000_0000;
const TABLES = DRAM; // GPT and page tables
const VECTORS_EL1 = DRAM + 0x40_0000; // EL1 vector table (code)
const VECTORS_EL3 = DRAM + 0x41_0000; // EL3 vector table (code)
const SECRET_PA = DRAM + 0x100_0000; // the granule the tour protects
const SECRET_VA = 0x4000_0000;
const VECTORS_VA = 0x10_0000;

/** One step of the tour: what happened and what the model shows. */
export interface TourStep {
  readonly title: string;
  readonly lines: readonly string[];
}

function describeEsr(esr: number): string {
  const ec = esrClass(esr);
  const fsc = esr & 0x3f;
  const name =
    ec === Ec.DataAbortSame
      ? 'data abort, same EL'
      : ec === Ec.GranuleProtection
        ? 'GPC exception'
        : `EC 0x${ec.toString(16)}`;
  const gpcsc =
    ec === Ec.GranuleProtection ? `, GPCSC 0b${((esr >>> 14) & 0x3f).toString(2).padStart(6, '0')}` : '';
  return `ESR 0x${esr.toString(16)} (${name}, FSC 0x${fsc.toString(16)}${gpcsc})`;
}

/** Run the tour and return its steps. */
export function machineTour(): TourStep[] {
  const steps: TourStep[] = [];
  const machine = new Machine({
    paRangeBits: 40,
    dram: [{ name: 'dram0', base: DRAM, size: 0x4000_0000 }],
    pes: 1,
  });
  const memory = machine.memory;
  const pe = machine.pes[0]!;
  const allocator = new PageAllocator(TABLES, 0x40_0000);

  // GPT: PPS 4 GB, 4 KB granules, 1 GB per L0 entry; all DRAM Non-secure.
  const gpt = new GptLayout(memory, allocator, { pps: 0, pgs: 0, l0gptsz: 0 });
  gpt.setGranule(DRAM, Gpi.NonSecure, Gpi.NonSecure);
  gpt.setGranule(VECTORS_EL3, Gpi.Root); // EL3 code must live in Root PAS: EL3 fetches from elsewhere fault
  pe.setSysRegRaw('GPTBR_EL3', ...split64(gpt.gptbr()));
  pe.setSysRegRaw('GPCCR_EL3', gpt.gpccr(), 0);
  steps.push({
    title: 'A GPT in simulated memory',
    lines: [
      `GPCCR_EL3 = ${hex(gpt.gpccr())} (PPS 4 GB, PGS 4 KB, L0GPTSZ 1 GB, GPC on)`,
      `GPTBR_EL3 = ${hex(gpt.gptbr())} (L0 table at ${hex(gpt.l0Base)})`,
      `GPI of ${hex(SECRET_PA)}: ${gpiName(pe.gpc.lookup(SECRET_PA).gpi)} at GPT level ${pe.gpc.lookup(SECRET_PA).level}`,
    ],
  });

  // Stage-1 tables for EL1&0: the secret page and the vector page.
  const tables = new PageTableLayout(memory, allocator);
  tables.map(SECRET_VA, SECRET_PA, { ap: 0 });
  tables.map(VECTORS_VA, VECTORS_EL1, { ap: 2 });
  memory.write32(SECRET_PA, 0x5ec12e7);
  pe.setSysRegRaw('SCR_EL3', 1, 0); // EL1/EL0 Non-secure
  pe.setSysRegRaw('TCR_EL1', TCR_EL1_48BIT[0], TCR_EL1_48BIT[1]);
  pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
  pe.setSysRegRaw('SCTLR_EL1', 1, 0);
  pe.setSysRegRaw('VBAR_EL1', VECTORS_VA, 0);
  pe.setSysRegRaw('VBAR_EL3', VECTORS_EL3, 0); // EL3 runs with its MMU off: VA = PA

  // Exception handlers: code registered where the vectors live, fetched through the MMU and GPC.
  const seen: string[] = [];
  const recordAndReturn =
    (level: string, esrName: 'ESR_EL1' | 'ESR_EL3', elrName: 'ELR_EL1' | 'ELR_EL3') =>
    (p: ProcessingElement) => {
      seen.push(
        `${level} handler ran: ${describeEsr(p.regs.low(esrName))}, FAR ${hex(p.regs.number(level === 'EL1' ? 'FAR_EL1' : 'FAR_EL3'))}`,
      );
      // Skip the faulting load: resume at the next instruction.
      p.regs.setNumber(elrName, p.regs.number(elrName) + 4);
      p.eret();
    };
  machine.code.register(
    VECTORS_EL1 + 0x200,
    'el1-sync-current',
    recordAndReturn('EL1', 'ESR_EL1', 'ELR_EL1'),
  );
  machine.code.register(VECTORS_EL3 + 0x400, 'el3-sync-lower', recordAndReturn('EL3', 'ESR_EL3', 'ELR_EL3'));

  pe.reset(1, 0x1000);
  const first = pe.load32(SECRET_VA);
  steps.push({
    title: 'A Non-secure EL1 load through MMU, TLB and GPC',
    lines: [
      `load32(${hex(SECRET_VA)}) = ${hex(first)} (TLB misses ${pe.stats().tlbMisses}, walk reads ${pe.stats().walkReads})`,
      `again: ${hex(pe.load32(SECRET_VA))} (TLB hits ${pe.stats().tlbHits})`,
    ],
  });

  // EL3 delegates the granule to Root by editing the GPT, but issues no TLBI yet.
  gpt.setGranule(SECRET_PA, Gpi.Root);
  const stale = pe.load32(SECRET_VA);
  steps.push({
    title: 'GPT edit without TLBI: the stale permission stays in effect',
    lines: [
      `GPI of ${hex(SECRET_PA)} in memory is now ${gpiName(pe.gpc.lookup(SECRET_PA).gpi)}`,
      `load32(${hex(SECRET_VA)}) = ${hex(stale)}: the TLB still holds the old GPC outcome`,
    ],
  });

  // The maintenance TF-A performs after a GPI write: TLBI RPALOS for the granule, at EL3.
  pe.reset(3);
  pe.tlbi('RPALOS', SECRET_PA / 4096);
  pe.reset(1, 0x2000);
  const blocked = pe.load32(SECRET_VA);
  steps.push({
    title: 'After TLBI RPALOS the GPC refuses the access (SCR_EL3.GPF = 0: abort at EL1)',
    lines: [...seen.splice(0), `load32 returned ${hex(blocked)}; lastFault ${describeEsr(pe.lastFault)}`],
  });

  pe.setSysRegRaw('SCR_EL3', 1, 1 << 16); // SCR_EL3.GPF = 1
  pe.reset(1, 0x3000);
  pe.load32(SECRET_VA);
  steps.push({
    title: 'With SCR_EL3.GPF = 1 the same fault is a GPC exception taken to EL3',
    lines: [
      ...seen.splice(0),
      `MFAR_EL3 = ${hex((BigInt(pe.regs.high('MFAR_EL3')) << 32n) | BigInt(pe.regs.low('MFAR_EL3')))} (NS bit 63 set: Non-secure PAS)`,
    ],
  });

  const s = pe.stats();
  steps.push({
    title: 'Counters of pe0',
    lines: [
      `cycles ${s.cycles} (${machine.profile.name}), TLB hits ${s.tlbHits}, misses ${s.tlbMisses}, walk reads ${s.walkReads}, GPT reads ${s.gptReads}`,
      `exceptions to EL1 ${s.exceptionsToEl1}, to EL3 ${s.exceptionsToEl3}, TLBI RPA* ${s.tlbiRpa}, GPC faults ${s.gpcFaults}`,
    ],
  });
  return steps;
}
