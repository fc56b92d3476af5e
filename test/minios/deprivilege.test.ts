// The deprivileged kernel: sensitive EL1 registers are written only under the Priv-GPT.
import { describe, expect, it } from 'vitest';
import { split64 } from '../../src/hw/bits.js';
import { Ec, esrClass } from '../../src/hw/exceptions.js';
import { PageAllocator, PageTableLayout } from '../../src/hw/layout.js';
import { RcCall } from '../../src/minios/abi.js';
import { SENSITIVE_EL1_REGISTERS } from '../../src/minios/platform.js';
import { bootTestPlatform } from './platform-helpers.js';

describe('deprivileged EL1', () => {
  it('refuses every sensitive register write from the kernel and reports a trapped MSR at EL1', () => {
    const p = bootTestPlatform();
    // A kernel vector page (harness): record the trap and skip the MSR.
    const tables = new PageTableLayout(p.machine.memory, new PageAllocator(0xb000_0000, 0x10_0000));
    tables.map(0x2000_0000, 0xb100_0000, { ap: 0, uxn: true });
    const traps: number[] = [];
    p.machine.code.register(0xb100_0000 + 0x200, 'kernel-sync', (pe) => {
      traps.push(esrClass(pe.regs.low('ESR_EL1')));
      pe.regs.setNumber('ELR_EL1', pe.regs.number('ELR_EL1') + 4);
      pe.eret();
    });
    p.pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
    p.pe.setSysRegRaw('VBAR_EL1', 0x2000_0000, 0);
    for (const name of SENSITIVE_EL1_REGISTERS) {
      const before = p.pe.regs.pair(name);
      expect(p.pe.msr(name, 0x1234_5000, 0)).toBe(false);
      expect(p.pe.regs.pair(name)).toEqual(before);
    }
    expect(traps).toEqual(SENSITIVE_EL1_REGISTERS.map(() => Ec.SysRegTrap));
    expect(p.pe.halted).toBeUndefined();
    // Other EL1 registers stay writable.
    expect(p.pe.msr('ESR_EL1', 0, 0)).toBe(true);
  });

  it('the mini-OS runs with its own vectors and restores the OS vectors before it leaves', () => {
    const p = bootTestPlatform();
    p.pe.setSysRegRaw('VBAR_EL1', 0x2000_0000, 0); // what the OS context had
    expect(p.call(RcCall.CreateShim, 1)).toBe(0);
    expect(p.pe.regs.number('VBAR_EL1')).toBe(0x2000_0000);
    expect(p.pe.stats().sysRegWrites).toBeGreaterThan(0);
  });
});

describe('mixed page table', () => {
  it("the kernel's walk of the mini-OS linear map takes a GPF on the walk under the OS-GPT", async () => {
    const { Access, MmuFault, TranslationResult } = await import('../../src/hw/mmu.js');
    const p = bootTestPlatform();
    const out = new TranslationResult();
    const va = p.minios.params.linearBase + p.minios.boot.miniRegion.base;
    p.pe.probe(va, 1, Access.Read, out);
    expect(out.fault).toBe(MmuFault.Gpc);
    expect(out.s1ptw).toBe(true);
    expect(out.level).toBe(1); // the L0 entry in the kernel's root (PT(os)) is readable; the L1 table is MINI
    // The same walk under the Priv-GPT (the mini-OS) reaches the page.
    const priv = p.firmware.privGptBase;
    const saved = p.pe.regs.pair('GPTBR_EL3');
    p.pe.setSysRegRaw('GPTBR_EL3', priv / 4096, 0);
    p.pe.invalidateGptInfoAll(); // what EL3's switch does: cached GPT information of the old view goes
    p.pe.probe(va, 1, Access.Read, out);
    expect(out.fault).toBe(MmuFault.None);
    expect(out.pa).toBe(p.minios.boot.miniRegion.base);
    p.pe.setSysRegRaw('GPTBR_EL3', ...saved);
    p.pe.invalidateGptInfoAll();
  });

  it('the gate entry cannot be fetched from the OS context', async () => {
    const { Access, MmuFault, TranslationResult } = await import('../../src/hw/mmu.js');
    const p = bootTestPlatform();
    const out = new TranslationResult();
    p.pe.probe(p.minios.entryVa, 1, Access.Fetch, out);
    expect(out.fault).toBe(MmuFault.Gpc);
  });
});
