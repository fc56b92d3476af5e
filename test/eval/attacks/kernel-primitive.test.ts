/**
 * The compromised kernel's primitives (src/eval/attacks/kernel-primitive.ts, disk-primitive.ts):
 * each is a real access through the machine, leaves the PE it used idle in the kernel with the
 * kernel's registers, and the system carries on afterwards; fault syndromes are named correctly.
 */
import { describe, expect, it } from 'vitest';
import type { DesignName } from '../../../src/designs/system.js';
import { describeFault } from '../../../src/eval/attacks/faults.js';
import { DiskPrimitive } from '../../../src/eval/attacks/disk-primitive.js';
import { ATTACK_KVA, KernelPrimitive } from '../../../src/eval/attacks/kernel-primitive.js';
import { READY } from '../../../src/eval/attacks/programs.js';
import {
  bootScenario,
  containsText,
  locateSecret,
  runUntil,
  type Scenario,
} from '../../../src/eval/attacks/victim.js';
import { Ec, esr } from '../../../src/hw/exceptions.js';
import { KERNEL_IDLE_VA } from '../../../src/kernel/hooks.js';
import { wExitStatus } from '../../../src/kernel/uapi/flags.js';

const REGISTERS = ['TTBR0_EL1', 'TTBR1_EL1', 'VBAR_EL1', 'TCR_EL1', 'SCTLR_EL1'] as const;

function readyScenario(design: DesignName): Scenario {
  const scenario = bootScenario(design, 'primitive-test');
  const out = (): string => scenario.system.outputText();
  runUntil(scenario.system, 'ready', () => out().includes(READY.victim) && out().includes(READY.attacker));
  return scenario;
}

describe('describeFault', () => {
  it('names the fault status codes the MMU and the GPC report', () => {
    const abort = (fsc: number, s1ptw = false): number => esr(Ec.DataAbortSame, fsc | (s1ptw ? 0x80 : 0));
    expect(describeFault(abort(0b000110))).toBe('translation fault (level 2): not mapped');
    expect(describeFault(abort(0b001111))).toBe('permission fault (level 3)');
    expect(describeFault(abort(0b101000))).toBe('granule protection fault (GPF) on the output address');
    expect(describeFault(abort(0b100111, true))).toBe(
      'granule protection fault (GPF) on a table walk (level 3)',
    );
    expect(describeFault(esr(Ec.SysRegTrap, 0))).toBe('trapped MSR (EC 0x18): EL1 is deprivileged');
  });
});

describe.each(['native', 'rcontainer'] as const)('the kernel primitives (%s)', (design) => {
  it('leave the PE idle with the kernel registers, and the containers run on', () => {
    const scenario = readyScenario(design);
    const pe = scenario.system.machine.pes[0]!;
    const before = REGISTERS.map((name) => pe.regs.pair(name));
    const where = locateSecret(scenario);
    const kernel = new KernelPrimitive(scenario.system);
    const disk = new DiskPrimitive(kernel, scenario.store);
    const heap = where.userPages[0]!;
    kernel.readPhysical(heap.pa, 4096);
    kernel.mapAndRead(heap.pa, 4096);
    kernel.readWithTtbr0(0x9000_0000, 7, [heap.va]);
    kernel.writeSysreg('VBAR_EL1', 0x1000, 0xffff_0000);
    disk.dmaRead(heap.pa);
    disk.readBlock(scenario.victim.cid, where.diskBlocks[0]!);
    expect(REGISTERS.map((name) => pe.regs.pair(name))).toEqual(before);
    expect(pe.el).toBe(1);
    expect(pe.pc).toBe(KERNEL_IDLE_VA);
    // Nothing stays mapped at the attacker's VA.
    expect(kernel.readVirtual(ATTACK_KVA, 8).ok).toBe(false);
    expect(scenario.system.run()).toBe('idle');
    expect(wExitStatus(scenario.victim.group.exitStatus!)).toBe(0);
    expect(scenario.system.outputText()).toContain('kv-vault: read /vault.db: intact');
  });

  it('find the token where the victim put it only under native', () => {
    const scenario = readyScenario(design);
    const where = locateSecret(scenario);
    const kernel = new KernelPrimitive(scenario.system);
    const found = (reads: ReturnType<KernelPrimitive['readPhysical']>[]): boolean =>
      reads.some((r) => r.ok && containsText(r.bytes, scenario.token));
    expect(where.userPages.length).toBeGreaterThan(0);
    expect(where.kernelPages.length).toBeGreaterThan(0);
    expect(where.diskBlocks.length).toBeGreaterThanOrEqual(2);
    const open = design === 'native';
    expect(found(where.userPages.map((p) => kernel.readPhysical(p.pa, 4096)))).toBe(open);
    expect(found(where.kernelPages.map((p) => kernel.readVirtual(p.va, 4096)))).toBe(open);
    const block = new DiskPrimitive(kernel, scenario.store).readBlock(
      scenario.victim.cid,
      where.diskBlocks[0]!,
    );
    expect(typeof block !== 'number' && containsText(block, scenario.token)).toBe(open);
  });
});
