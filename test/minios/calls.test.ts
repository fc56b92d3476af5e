// The rc_* calls through the real gate, each "must refuse" row, and the isolation they produce,
// checked through the machine's GPC (not by asking the mini-OS's tables).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Access, MmuFault, TranslationResult } from '../../src/hw/mmu.js';
import {
  containerWindowVa,
  ExecPolicy,
  MallocKind,
  Owner,
  RcCall,
  RcError,
  SHIM_WINDOW_KERNEL_SLOT,
  SHIM_WINDOW_SLOTS,
} from '../../src/minios/abi.js';
import { ShimPage, ShimRecord } from '../../src/minios/containers.js';
import {
  bootTestPlatform,
  kernelCall,
  KERNEL_SCRATCH,
  openIn,
  OS_POOL,
  writeImageArguments,
  type TestPlatform,
} from './platform-helpers.js';
import { bindContainer, digest } from './pte-helpers.js';

const SH = digest('/bin/sh');
const KV = digest('/bin/kv');

const boundContainer = (p: TestPlatform, cid: number, policy: number = ExecPolicy.MeasuredOnly): void =>
  bindContainer(p, cid, policy, [SH, KV]);

describe('boot', () => {
  it('leaves every PE in the OS context under the OS-GPT, with MINI and Root memory closed', () => {
    const p = bootTestPlatform();
    for (const pe of p.machine.pes) {
      expect(pe.el).toBe(1);
      expect(pe.halted).toBeUndefined();
      expect(pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.osL0);
    }
    const os = p.minios.views.osL0;
    expect(openIn(p, os, p.minios.boot.miniRegion.base)).toBe(false);
    expect(openIn(p, os, p.firmware.layout.root.base)).toBe(false);
    expect(openIn(p, os, OS_POOL[0]!)).toBe(true);
    // The GPT tables themselves are MINI memory: no kernel write can reach a GPT byte.
    expect(openIn(p, os, os)).toBe(false);
    expect(p.firmware.panics).toEqual([]);
  });
});

describe('rc_create_shim', () => {
  it('creates SHIM(c) and shim-GPT(c): open in c, closed in the OS-GPT and in other containers', () => {
    const p = bootTestPlatform();
    expect(p.call(RcCall.CreateShim, 1)).toBe(0);
    expect(p.call(RcCall.CreateShim, 2)).toBe(0);
    const c1 = p.minios.containers.get(1)!;
    const shimPa = p.minios.ownership.paOf(c1.shim[0]!);
    expect(openIn(p, c1.view, shimPa)).toBe(true);
    expect(openIn(p, p.minios.views.osL0, shimPa)).toBe(false);
    expect(openIn(p, p.minios.views.viewOf(2)!, shimPa)).toBe(false);
    // The record page says who it belongs to, in simulated memory.
    expect(p.machine.memory.read32(shimPa + ShimRecord.cid)).toBe(1);
  });

  it('refuses a reused id, an id out of range and more containers than the limit', () => {
    const p = bootTestPlatform({ maxContainers: 2 });
    expect(p.call(RcCall.CreateShim, 1)).toBe(0);
    expect(p.call(RcCall.CreateShim, 1)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.CreateShim, 0)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CreateShim, 0x1_0000)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CreateShim, -5)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CreateShim, 2)).toBe(0);
    expect(p.call(RcCall.CreateShim, 3)).toBe(RcError.ENOMEM);
  });
});

describe('rc_destroy_shim', () => {
  it('refuses while tasks live or the container is bound, then scrubs and releases SHIM(c)', () => {
    const p = bootTestPlatform();
    boundContainer(p, 4);
    const tid = p.call(RcCall.TaskClone, 4, 0);
    expect(tid).toBeGreaterThan(0);
    expect(p.call(RcCall.DestroyShim, 4)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.TaskExit, 4, tid)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 4)).toBe(RcError.EBUSY); // still bound
    expect(p.call(RcCall.DestroyContainer, 4)).toBe(0);
    const shim = [...p.minios.containers.get(4)!.shim];
    expect(p.call(RcCall.DestroyShim, 4)).toBe(0);
    for (const index of shim) {
      expect(p.minios.ownership.kindOf(index)).toBe(Owner.Mini);
      const pa = p.minios.ownership.paOf(index);
      expect([...p.machine.memory.readBytes(pa, 4096)!].every((b) => b === 0)).toBe(true);
    }
    expect(p.call(RcCall.DestroyShim, 4)).toBe(RcError.ENOENT);
  });

  it('refuses while the container still owns CTR or PT memory, and returns OS-given SHIM granules to the OS', () => {
    const p = bootTestPlatform();
    expect(p.call(RcCall.CreateShim, 6)).toBe(0);
    expect(p.call(RcCall.MallocMm, 6, OS_POOL[5]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 6, OS_POOL[6]!, 1, MallocKind.Shim)).toBe(SHIM_WINDOW_KERNEL_SLOT);
    expect(p.call(RcCall.DestroyShim, 6)).toBe(RcError.EBUSY);
    boundContainerAfterShim(p, 6);
    expect(p.call(RcCall.DestroyContainer, 6)).toBe(0);
    p.machine.memory.write32(OS_POOL[6]!, 0x5ec2e7);
    expect(p.call(RcCall.DestroyShim, 6)).toBe(0);
    expect(p.minios.ownership.kindAt(OS_POOL[6]!)).toBe(Owner.Os);
    expect(p.machine.memory.read32(OS_POOL[6]!)).toBe(0);
    expect(openIn(p, p.minios.views.osL0, OS_POOL[6]!)).toBe(true);
  });
});

describe('rc_create_container', () => {
  it('measures the image list and config itself and records them in the shim', () => {
    const p = bootTestPlatform();
    boundContainer(p, 3);
    const record = p.minios.containers.get(3)!;
    const list = p.machine.memory.readBytes(KERNEL_SCRATCH, 4 + 64)!;
    expect(Buffer.from(record.imageDigest!).toString('hex')).toBe(
      createHash('sha256').update(list).digest('hex'),
    );
    const page = p.minios.ownership.paOf(record.shim[0]!);
    expect(p.machine.memory.readBytes(page + ShimRecord.imageDigest, 32)).toEqual(record.imageDigest);
  });

  it('refuses without a shim, twice, with a bad policy, and with arguments outside OS memory', () => {
    const p = bootTestPlatform();
    const args = writeImageArguments(p, [SH], '{}');
    expect(p.call(RcCall.CreateContainer, 9, args.list, args.config, args.configLength, 0)).toBe(
      RcError.ENOENT,
    );
    expect(p.call(RcCall.CreateShim, 9)).toBe(0);
    expect(p.call(RcCall.CreateContainer, 9, args.list, args.config, args.configLength, 7)).toBe(
      RcError.EINVAL,
    );
    expect(p.call(RcCall.CreateContainer, 9, args.list, args.config, 1 << 20, 0)).toBe(RcError.EINVAL);
    const mini = p.minios.boot.miniRegion.base;
    expect(p.call(RcCall.CreateContainer, 9, mini, args.config, args.configLength, 0)).toBe(RcError.EPERM);
    expect(p.call(RcCall.CreateContainer, 9, args.list, p.firmware.layout.root.base, 16, 0)).toBe(
      RcError.EPERM,
    );
    expect(p.call(RcCall.CreateContainer, 9, args.list, args.config, args.configLength, 0)).toBe(0);
    expect(p.call(RcCall.CreateContainer, 9, args.list, args.config, args.configLength, 0)).toBe(
      RcError.EBUSY,
    );
  });
});

describe('rc_malloc_mm', () => {
  it('moves OS granules into the container: scrubbed, closed to the OS and to other containers', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    boundContainer(p, 2);
    const pa = OS_POOL[40]!; // second GiB: the container's view gets a private L1 table there
    p.machine.memory.write32(pa, 0xdead_beef); // left over by the OS
    expect(p.call(RcCall.MallocMm, 1, pa, 2, MallocKind.Ctr)).toBe(0);
    expect(p.machine.memory.read32(pa)).toBe(0);
    expect(openIn(p, p.minios.views.viewOf(1)!, pa)).toBe(true);
    expect(openIn(p, p.minios.views.viewOf(1)!, pa + 4096)).toBe(true);
    expect(openIn(p, p.minios.views.osL0, pa)).toBe(false);
    expect(openIn(p, p.minios.views.viewOf(2)!, pa)).toBe(false);
  });

  it('maps kernel-data (Shim) granules into consecutive window slots, reachable only under shim-GPT(c)', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[3]!, 2, MallocKind.Shim)).toBe(SHIM_WINDOW_KERNEL_SLOT);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[5]!, 1, MallocKind.Shim)).toBe(SHIM_WINDOW_KERNEL_SLOT + 2);
    const record = p.minios.containers.get(1)!;
    const windowTable = p.minios.ownership.paOf(record.shim[ShimPage.windowTable]!);
    const leaf = (slot: number): number => p.machine.memory.read32(windowTable + 8 * slot);
    const frame = (slot: number): number => (leaf(slot) & 0xffff_f000) >>> 0;
    // Page descriptors (0b11) with AP = 00 (EL1 read/write), output = the granule given.
    expect(frame(SHIM_WINDOW_KERNEL_SLOT)).toBe(OS_POOL[3]! % 2 ** 32);
    expect(leaf(SHIM_WINDOW_KERNEL_SLOT) & 0xc3).toBe(0b11);
    expect(frame(SHIM_WINDOW_KERNEL_SLOT + 1)).toBe(OS_POOL[4]! % 2 ** 32);
    expect(frame(SHIM_WINDOW_KERNEL_SLOT + 2)).toBe(OS_POOL[5]! % 2 ** 32);
    // From the OS context even the walk to the window's table faults.
    const out = new TranslationResult();
    p.pe.probe(containerWindowVa(1) + SHIM_WINDOW_KERNEL_SLOT * 4096, 1, Access.Write, out);
    expect(out.fault).toBe(MmuFault.Gpc);
    // A full window refuses before anything changes owner.
    const free = SHIM_WINDOW_SLOTS - SHIM_WINDOW_KERNEL_SLOT - 3;
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[6]!, free + 1, MallocKind.Shim)).toBe(RcError.ENOMEM);
    expect(p.minios.ownership.kindAt(OS_POOL[6]!)).toBe(Owner.Os);
  });

  it('grows the window with level-3 tables of SHIM(c) from its own heap, and frees them with the shim', () => {
    const p = bootTestPlatform();
    // The same container without the 400 pages, as a control for the heap's accounting.
    const control = bootTestPlatform();
    boundContainer(control, 1);
    const controlBefore = control.minios.heap.available;
    expect(control.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(control.call(RcCall.DestroyShim, 1)).toBe(0);
    const controlFreed = control.minios.heap.available - controlBefore;
    boundContainer(p, 1);
    // 400 pages from the second GiB run past slot 511: a second level-3 table is needed.
    const base = 0xd000_0000 + 64 * 4096;
    expect(p.call(RcCall.MallocMm, 1, base, 400, MallocKind.Shim)).toBe(SHIM_WINDOW_KERNEL_SLOT);
    const record = p.minios.containers.get(1)!;
    expect(record.windowTables).toHaveLength(1);
    const table = record.windowTables[0]!;
    expect(p.minios.ownership.kindOf(table)).toBe(Owner.Shim);
    expect(p.minios.ownership.containerOf(table)).toBe(1);
    expect(openIn(p, p.minios.views.osL0, p.minios.ownership.paOf(table))).toBe(false);
    const slot = 520; // in the second table
    const leaf = p.machine.memory.read32(p.minios.ownership.paOf(table) + 8 * (slot % 512));
    expect((leaf & 0xffff_f000) >>> 0).toBe((base + (slot - SHIM_WINDOW_KERNEL_SLOT) * 4096) % 2 ** 32);
    const out = new TranslationResult();
    p.pe.probe(containerWindowVa(1) + slot * 4096, 1, Access.Read, out);
    expect(out.fault).toBe(MmuFault.Gpc); // the OS context cannot walk to it
    const before = p.minios.heap.available;
    expect(p.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 1)).toBe(0);
    expect(p.minios.ownership.kindOf(table)).toBe(Owner.Mini);
    // The window table and the view's private L1 table of the second GiB (128 KiB) come back too.
    expect(p.minios.heap.available - before).toBe(controlFreed + 4096 + 128 * 1024);
  });

  it('refuses granules that are not OS-owned, bad kinds and counts, and quota overruns', () => {
    const p = bootTestPlatform({ containerQuota: 20 });
    boundContainer(p, 1);
    boundContainer(p, 2);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[0]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 2, OS_POOL[0]!, 1, MallocKind.Ctr)).toBe(RcError.EPERM); // c1's
    expect(p.call(RcCall.MallocMm, 2, p.minios.boot.miniRegion.base, 1, MallocKind.Ctr)).toBe(RcError.EPERM);
    expect(p.call(RcCall.MallocMm, 2, p.firmware.layout.root.base, 1, MallocKind.Ctr)).toBe(RcError.EPERM);
    expect(p.call(RcCall.MallocMm, 2, p.minios.kernelRoot, 1, MallocKind.Pt)).toBe(RcError.EPERM); // PT(os)
    expect(p.call(RcCall.MallocMm, 2, 0x4000_0000, 1, MallocKind.Ctr)).toBe(RcError.EPERM); // not DRAM
    expect(p.call(RcCall.MallocMm, 2, OS_POOL[1]! + 8, 1, MallocKind.Ctr)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.MallocMm, 2, OS_POOL[1]!, 1, Owner.Mini)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.MallocMm, 2, OS_POOL[1]!, 0, MallocKind.Ctr)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.MallocMm, 2, 2 ** 52 - 4096, 2, MallocKind.Ctr)).toBe(RcError.EINVAL); // overflow
    expect(p.call(RcCall.MallocMm, 7, OS_POOL[1]!, 1, MallocKind.Ctr)).toBe(RcError.ENOENT);
    // 16 shim granules + 1 = 17 of 20: four more exceed the quota, and nothing changes.
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[2]!, 4, MallocKind.Ctr)).toBe(RcError.ENOMEM);
    expect(p.minios.ownership.kindAt(OS_POOL[2]!)).toBe(Owner.Os);
    // A range that runs into a foreign granule is refused as a whole.
    expect(p.call(RcCall.MallocMm, 2, OS_POOL[0]! - 4096, 2, MallocKind.Ctr)).toBe(RcError.EPERM);
    expect(p.minios.ownership.kindAt(OS_POOL[0]! - 4096)).toBe(Owner.Os);
  });
});

describe('rc_destroy_container', () => {
  it('scrubs CTR(c) and PT(c) before they go back to the OS, and reopens them in the OS-GPT', () => {
    const p = bootTestPlatform();
    boundContainer(p, 5);
    expect(p.call(RcCall.MallocMm, 5, OS_POOL[3]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 5, OS_POOL[4]!, 1, MallocKind.Pt)).toBe(0);
    p.machine.memory.write32(OS_POOL[3]!, 0x5ec2e7); // the container's secret
    expect(p.call(RcCall.DestroyContainer, 5)).toBe(0);
    expect(p.machine.memory.read32(OS_POOL[3]!)).toBe(0);
    expect(openIn(p, p.minios.views.osL0, OS_POOL[3]!)).toBe(true);
    expect(p.minios.ownership.kindAt(OS_POOL[4]!)).toBe(Owner.Os);
  });

  it('refuses unknown or unbound containers and containers with live tasks', () => {
    const p = bootTestPlatform();
    expect(p.call(RcCall.DestroyContainer, 5)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.CreateShim, 5)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 5)).toBe(RcError.ENOENT);
    boundContainerAfterShim(p, 5);
    expect(p.call(RcCall.TaskClone, 5, 0)).toBe(1);
    expect(p.call(RcCall.DestroyContainer, 5)).toBe(RcError.EBUSY);
  });
});

function boundContainerAfterShim(p: TestPlatform, cid: number): void {
  const args = writeImageArguments(p, [SH], '{}');
  expect(
    p.call(RcCall.CreateContainer, cid, args.list, args.config, args.configLength, ExecPolicy.MeasuredOnly),
  ).toBe(0);
}

describe('tasks', () => {
  it('rc_task_clone refuses parents outside the container and a second first task', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    boundContainer(p, 2);
    const t1 = p.call(RcCall.TaskClone, 1, 0);
    const t2 = p.call(RcCall.TaskClone, 2, 0);
    expect(p.call(RcCall.TaskClone, 1, 0)).toBe(RcError.EPERM);
    expect(p.call(RcCall.TaskClone, 1, t2 + 100)).toBe(RcError.EPERM);
    expect(p.call(RcCall.TaskClone, 1, t1)).toBeGreaterThan(t1);
    expect(p.call(RcCall.TaskClone, 3, 0)).toBe(RcError.ENOENT);
  });

  it('enforces the exec policy: measured binaries only, and deny refuses entering from outside', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1, ExecPolicy.MeasuredOnly);
    boundContainer(p, 2, ExecPolicy.Deny);
    const t1 = p.call(RcCall.TaskClone, 1, 0);
    const t2 = p.call(RcCall.TaskClone, 2, 0);
    p.machine.memory.writeBytes(KERNEL_SCRATCH + 0x2000, SH);
    p.machine.memory.writeBytes(KERNEL_SCRATCH + 0x2020, digest('/tmp/evil'));
    expect(p.call(RcCall.TaskExec, 1, t1, KERNEL_SCRATCH + 0x2000, 0x40_0000)).toBe(0);
    expect(p.call(RcCall.TaskExec, 1, t1, KERNEL_SCRATCH + 0x2020, 0x40_0000)).toBe(RcError.EPERM);
    // Deny admits the measured image's binaries in the container's own tasks, like measuredOnly...
    expect(p.call(RcCall.TaskExec, 2, t2, KERNEL_SCRATCH + 0x2000, 0x40_0000)).toBe(0);
    expect(p.call(RcCall.TaskExec, 2, t2, KERNEL_SCRATCH + 0x2020, 0x40_0000)).toBe(RcError.EPERM);
    // ...but no task entering the running container from outside (a parent and no trapped frame).
    expect(p.call(RcCall.TaskClone, 2, t2)).toBe(RcError.EPERM);
    expect(p.call(RcCall.TaskClone, 1, t1)).toBeGreaterThan(t1);
    expect(p.call(RcCall.TaskExec, 1, t1, KERNEL_SCRATCH + 0x2000, -4096)).toBe(RcError.EINVAL); // kernel VA
    expect(p.call(RcCall.TaskExec, 1, t1 + 9, KERNEL_SCRATCH + 0x2000, 0x40_0000)).toBe(RcError.ENOENT);
  });

  it('rc_task_exit refuses a double exit', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    const tid = p.call(RcCall.TaskClone, 1, 0);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(RcError.ENOENT);
  });

  it('rc_switch_to_depriv enters the task under shim-GPT(c) at its entry point, at EL0, on its own tables', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    const root = OS_POOL[20]!;
    expect(p.call(RcCall.MallocMm, 1, root, 1, MallocKind.Pt)).toBe(0);
    const tid = p.call(RcCall.TaskClone, 1, 0);
    expect(p.call(RcCall.SwitchToDepriv, 1, tid)).toBe(RcError.EPERM); // nothing exec'd yet
    p.machine.memory.writeBytes(KERNEL_SCRATCH + 0x2000, SH);
    expect(p.call(RcCall.TaskExec, 1, tid, KERNEL_SCRATCH + 0x2000, 0x40_0000)).toBe(0);
    expect(p.call(RcCall.SwitchToDepriv, 1, tid)).toBe(RcError.EPERM); // no address space yet
    expect(p.call(RcCall.TaskExec, 1, tid, KERNEL_SCRATCH + 0x2000, 0x40_0000, root)).toBe(0);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(0x40_0000);
    expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.viewOf(1));
    // TTBR0_EL1 holds the root the mini-OS validated, tagged with the task's ASID.
    expect(p.pe.regs.low('TTBR0_EL1')).toBe(root % 2 ** 32);
    expect(p.pe.regs.high('TTBR0_EL1') >>> 16).toBeGreaterThanOrEqual(0x8000);
  });
});

describe('task contexts in SHIM', () => {
  function runningTask(p: TestPlatform): { tid: number; root: number } {
    boundContainer(p, 1);
    const root = OS_POOL[20]!;
    expect(p.call(RcCall.MallocMm, 1, root, 1, MallocKind.Pt)).toBe(0);
    const tid = p.call(RcCall.TaskClone, 1, 0);
    p.machine.memory.writeBytes(KERNEL_SCRATCH + 0x2000, SH);
    expect(p.call(RcCall.TaskExec, 1, tid, KERNEL_SCRATCH + 0x2000, 0x40_0000, root)).toBe(0);
    return { tid, root };
  }

  /** The con-shim's EL0 frame: x0..x30, PC, SPSR. */
  function frame(pc: number, spsr: number): Uint8Array {
    const bytes = new Uint8Array(33 * 8);
    const view = new DataView(bytes.buffer);
    for (let r = 0; r <= 30; r++) view.setBigUint64(8 * r, BigInt(0x1000 + r), true);
    view.setBigUint64(31 * 8, BigInt(pc), true);
    view.setBigUint64(32 * 8, BigInt(spsr), true);
    return bytes;
  }

  it('saves the frame the con-shim pushed and restores it on the next switch', () => {
    const p = bootTestPlatform();
    const { tid } = runningTask(p);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    // The task traps into the kernel (con-shim, under shim-GPT(1)), which pushes its frame on the
    // shim syscall stack and asks the mini-OS to save it.
    p.pe.reset(1, 0x3000);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(RcError.EBUSY); // still running
    const stack = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[12]!);
    p.machine.memory.writeBytes(stack, frame(0x40_1234, 0));
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(0);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(0x40_1234);
    expect(p.pe.x[0]).toBe(0x1000);
    expect([...p.pe.x.slice(5, 31)]).toEqual(Array.from({ length: 26 }, (_, i) => 0x1005 + i));
  });

  it('refuses frames outside the shim stacks, frames that resume at EL1, and tasks that are not running', () => {
    const p = bootTestPlatform();
    const { tid } = runningTask(p);
    boundContainer(p, 2);
    const record = p.minios.containers.get(1)!;
    const stack = p.minios.ownership.paOf(record.shim[12]!);
    p.machine.memory.writeBytes(stack, frame(0x40_0000, 0));
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(RcError.EPERM); // not running
    p.call(RcCall.SwitchToDepriv, 1, tid);
    p.pe.reset(1, 0x3000);
    const recordPage = p.minios.ownership.paOf(record.shim[0]!);
    const otherShim = p.minios.ownership.paOf(p.minios.containers.get(2)!.shim[12]!);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, recordPage + 0x800)).toBe(RcError.EPERM);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, otherShim)).toBe(RcError.EPERM);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, OS_POOL[30]!)).toBe(RcError.EPERM);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack + 4096 - 16)).toBe(RcError.EINVAL); // crosses a page
    p.machine.memory.writeBytes(stack, frame(0x40_0000, 0b0101)); // EL1h
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.SwitchToMiniOs, 7, 1, tid, stack)).toBe(RcError.EINVAL);
    p.machine.memory.writeBytes(stack, frame(0x40_0000, 0));
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(0);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
  });
});

describe('the gate', () => {
  it('always returns to the caller, whatever it forged in x8-x10, and refuses unknown calls', () => {
    const p = bootTestPlatform();
    p.pe.pc = 0x1000;
    p.pe.x[8] = 0xbad0;
    const result = p.call(99);
    expect(result).toBe(RcError.EINVAL);
    expect(p.pe.pc).toBe(0x1004);
    expect(p.pe.el).toBe(1);
    expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.osL0);
  });

  it('a call from a second PE works the same way', () => {
    const p = bootTestPlatform();
    expect(kernelCall(p.machine.pes[1]!, RcCall.CreateShim, 12)).toBe(0);
    expect(p.minios.containers.has(12)).toBe(true);
  });
});

describe('mini-OS statistics', () => {
  it('counts calls by name and refusals', () => {
    const p = bootTestPlatform();
    expect(p.call(RcCall.CreateShim, 1)).toBe(0);
    expect(p.call(RcCall.CreateShim, 1)).toBe(RcError.EBUSY);
    expect(p.call(99)).toBe(RcError.EINVAL);
    expect(p.minios.stats.calls).toEqual({ rc_create_shim: 2, unknown: 1 });
    expect(p.minios.stats.refusals).toBe(2);
    expect(p.minios.stats.granulesScrubbed).toBe(p.minios.params.shimGranules);
  });
});
