// The trampoline and the con-shim windows: OS vectors forward to the kernel; a container's
// syscall runs the shared kernel handler on its shim stack under shim-GPT(c) without any SMC; a
// switch into a task restores every register through the trampoline's restore stub.
import { describe, expect, it } from 'vitest';
import { leafDescriptor } from '../../src/hw/layout.js';
import { Access, MmuFault, TranslationResult } from '../../src/hw/mmu.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import { ExecPolicy, MallocKind, Owner, PteSpace, RcCall, RcError, VmaProt } from '../../src/minios/abi.js';
import { ShimPage } from '../../src/minios/containers.js';
import { containerWindow, TRAMPOLINE_VA, TrampolineCode } from '../../src/minios/trampoline.js';
import { bootTestPlatform, KERNEL_SCRATCH, OS_POOL, type TestPlatform } from './platform-helpers.js';
import { bindContainer, digest, linkTables, setPte, TWO48 } from './pte-helpers.js';

/** A kernel text VA under L0 entry 1 of the kernel root. */
const KTEXT = -TWO48 + 2 ** 39;
const USER_CODE = 0x40_0000;
const SH = digest('/bin/sh');

interface Seen {
  el: number;
  view: number;
  frame: number;
  x1: number;
}

/**
 * A platform with a kernel syscall handler at KTEXT (kernel image page, mapped RX through
 * rc_set_pte), registered with rc_set_kernel_entry, and container 1 with a task ready to run.
 */
function world(): { p: TestPlatform; tid: number; seen: Seen[] } {
  const p = bootTestPlatform();
  const kernelText = p.firmware.bootInfo.kernelBase + 0x1000;
  linkTables(p, PteSpace.Kernel, 0, KTEXT, OS_POOL.slice(40, 43));
  expect(
    setPte(p, PteSpace.Kernel, 0, KTEXT, leafDescriptor(kernelText, { ap: 2, pxn: false, uxn: true }, 3), 3),
  ).toBe(0);
  const seen: Seen[] = [];
  p.machine.code.register(kernelText, 'kernel-syscall', (pe: ProcessingElement) => {
    seen.push({
      el: pe.el,
      view: pe.regs.number('GPTBR_EL3') * 4096,
      frame: pe.x[0]!,
      x1: pe.load64(pe.x[0]! + 8),
    });
    pe.eret(); // back to the task after the SVC (ELR_EL1/SPSR_EL1 from the exception entry)
  });
  expect(p.call(RcCall.SetKernelEntry, KTEXT, KTEXT, KTEXT)).toBe(0);

  bindContainer(p, 1, ExecPolicy.MeasuredOnly, [SH]);
  const root = OS_POOL[0]!;
  expect(p.call(RcCall.MallocMm, 1, root, 1, MallocKind.Pt)).toBe(0);
  const tid = p.call(RcCall.TaskClone, 1, 0);
  p.machine.memory.writeBytes(KERNEL_SCRATCH + 0x2000, SH);
  expect(p.call(RcCall.TaskExec, 1, tid, KERNEL_SCRATCH + 0x2000, USER_CODE, root)).toBe(0);
  expect(p.call(RcCall.SetVma, 1, tid, USER_CODE, USER_CODE + 0x1000, VmaProt.Read | VmaProt.Exec)).toBe(0);
  return { p, tid, seen };
}

describe('trampoline', () => {
  it('is mapped read-only and executable, open in every view, and refused to the kernel as a writable target', () => {
    const { p } = world();
    const out = new TranslationResult();
    p.pe.probe(TRAMPOLINE_VA + TrampolineCode.restore, 1, Access.Fetch, out);
    expect(out.fault).toBe(MmuFault.None);
    expect(p.minios.ownership.kindAt(out.pa)).toBe(Owner.Trampoline);
    p.pe.probe(TRAMPOLINE_VA, 1, Access.Write, out);
    expect(out.fault).toBe(MmuFault.Permission);
    // The kernel can neither map the trampoline writable nor touch the window region's tables.
    const page = p.minios.trampoline.pa;
    expect(
      setPte(
        p,
        PteSpace.Kernel,
        0,
        KTEXT + 0x2000,
        leafDescriptor(page, { ap: 0, pxn: true, uxn: true }, 3),
        3,
      ),
    ).toBe(RcError.EPERM);
    expect(setPte(p, PteSpace.Kernel, 0, TRAMPOLINE_VA, [0, 0], 0)).toBe(RcError.EPERM);
    expect(p.call(RcCall.SetKernelEntry, KTEXT, KTEXT, KTEXT)).toBe(RcError.EBUSY); // once
  });

  it("a container's window, even its level-3 table, cannot be walked outside shim-GPT(c)", () => {
    const { p } = world();
    const out = new TranslationResult();
    p.pe.probe(containerWindow(1) + ShimPage.vectors * 4096, 1, Access.Fetch, out);
    expect(out.fault).toBe(MmuFault.Gpc);
    expect(out.s1ptw).toBe(true); // the window's level-3 table is a SHIM(1) page
  });
});

describe('the container syscall path', () => {
  it('runs the kernel handler on the shim stack under shim-GPT(c), without an SMC', () => {
    const { p, tid, seen } = world();
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(USER_CODE);
    const smcsBefore = p.pe.stats().smcs;
    p.pe.x[1] = 0xabcd;
    p.pe.svc(0); // the task's system call
    expect(p.pe.stats().smcs).toBe(smcsBefore);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.el).toBe(1);
    expect(seen[0]!.view).toBe(p.minios.views.viewOf(1));
    expect(seen[0]!.x1).toBe(0xabcd); // the frame the con-shim pushed
    const stackPage = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[ShimPage.mapped - 1]!);
    const out = new TranslationResult();
    p.pe.reset(1, 0); // look at the frame's VA from EL1
    p.pe.probe(seen[0]!.frame, 1, Access.Read, out);
    expect(Math.floor(out.pa / 4096) * 4096).toBe(stackPage);
  });

  it('restores every register, x1..x4 included, when the mini-OS switches back into the task', () => {
    const { p, tid } = world();
    p.call(RcCall.SwitchToDepriv, 1, tid);
    // A trap into the con-shim saved a full frame; the kernel asks the mini-OS to save it.
    for (let r = 0; r <= 30; r++) p.pe.x[r] = 0x1000 + r;
    p.pe.svc(0); // no kernel handler side effects matter here; the frame lands on the shim stack
    p.pe.reset(1, 0x3000);
    const frame = containerWindow(1) + ShimPage.mapped * 4096 - 33 * 8 - 8;
    const framePa =
      p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[ShimPage.mapped - 1]!) +
      (((frame % 4096) + 4096) % 4096);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, framePa)).toBe(0);
    p.pe.x.fill(0);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(USER_CODE + 4); // after the SVC
    expect([...p.pe.x.slice(0, 31)]).toEqual(Array.from({ length: 31 }, (_, r) => 0x1000 + r));
  });
});
