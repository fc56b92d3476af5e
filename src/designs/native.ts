/**
 * The `native` design: a plain shared kernel on the same CCA machine (DESIGN.md §2 designs). The
 * EL3 monitor boots as usual and leaves one open GPT view (every DRAM granule Non-secure); no
 * mini-OS runs. The kernel owns EL1: it writes its own translation tables, TTBR0/TTBR1, VBAR and
 * the task contexts, all through the PE at EL1.
 */
import { bootMonitor, type Firmware } from '../firmware/monitor.js';
import { leafDescriptor, TCR_EL1_48BIT } from '../hw/layout.js';
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import type { KernelPages } from '../kernel/core/ctx.js';
import type {
  ContainerLaunch,
  HwTask,
  KernelHandlers,
  MemoryRange,
  PageSource,
  Platform,
  UserStart,
} from '../kernel/hooks.js';
import { componentImage } from '../minios/platform.js';
import { DesignBase, type KernelSavedTask, type Trap } from './base.js';
import { alignRanges, bounceBuffers, FrameAllocator, memoryZones } from './frames.js';
import {
  DISK_BLOCKS_PER_CONTEXT,
  KERNEL_BLOCK_DEVICE_VA,
  KERNEL_LINEAR_VA,
  KERNEL_SMMU_VA,
  KERNEL_TEXT_VA,
  KernelCode,
  SPSR_EL0T,
} from './layout.js';
import { KernelTables } from './native-tables.js';
import { userLeaf } from './user-leaf.js';

const PAGE = 4096;
const MIB2 = 2 ** 21;

/** An address space: its root table, ASID, table pages and users. */
interface NativeSpace {
  readonly root: number;
  readonly asid: number;
  readonly tables: number[];
  users: number;
}

/** A native task: its address space and saved registers. */
export interface NativeTask extends HwTask, KernelSavedTask {
  space: NativeSpace | undefined;
}

/** Options of the native design. */
export interface NativeOptions {
  readonly seed: string | number | Uint8Array;
  /** Bytes of DRAM for the kernel's own data (default: a quarter of what is free, ≥ 16 MiB). */
  readonly kernelZoneBytes?: number;
}

/** The native platform. */
export class NativePlatform extends DesignBase<NativeTask> implements Platform {
  readonly design = 'native' as const;
  readonly blockDeviceVa = KERNEL_BLOCK_DEVICE_VA;
  readonly firmware: Firmware;
  readonly userMemory: readonly MemoryRange[];
  readonly pages: KernelPages;
  /** Page faults served (all from the free frame list: native has no slow path). */
  readonly stats = { userPages: 0 };
  private readonly kernelFrames: FrameAllocator;
  private readonly userFrames: FrameAllocator;
  private readonly tables: KernelTables;
  private readonly kernelRoot: number;
  private readonly imageBase: number;
  private readonly freeAsids: number[] = [];
  private nextAsid = 1;
  private readonly pagesInUse = new Map<number, number>();
  private readonly bounces: { readonly pa: number; readonly kva: number; readonly bytes: number }[];

  constructor(machine: Machine, options: NativeOptions) {
    super(machine);
    const images = {
      firmware: { name: 'firmware', bytes: componentImage('firmware', 'EL3 monitor') },
      minios: { name: 'minios', bytes: componentImage('minios', 'absent: native design') },
      kernel: { name: 'kernel', bytes: componentImage('kernel', 'native kernel') },
    };
    this.firmware = bootMonitor(machine, { images, seed: options.seed, run: false });
    const layout = this.firmware.layout;
    this.imageBase = layout.kernel.base;
    const zones = memoryZones(layout, [], options.kernelZoneBytes);
    this.kernelFrames = zones.kernel;
    this.userFrames = zones.user;
    this.userMemory = zones.userRanges;
    const pe = machine.pes[0]!;
    // The MMU is off: tables are written by physical address until the kernel enables it.
    this.tables = new KernelTables(
      (pa) => pa,
      () => this.kernelFrames.allocate(),
      (pa) => this.kernelFrames.release(pa),
    );
    const root = this.tables.newTable(pe);
    if (root === undefined) throw new Error('native kernel: no memory for its tables');
    this.kernelRoot = root;
    this.mapKernel(pe, layout.dramBanks);
    for (const each of machine.pes) {
      each.msr('TCR_EL1', TCR_EL1_48BIT[0], TCR_EL1_48BIT[1]);
      each.msr('MAIR_EL1', 0xff, 0);
      each.msrNumber('TTBR1_EL1', root);
      each.msr('SCTLR_EL1', 1, 0);
      each.msrNumber('VBAR_EL1', KERNEL_TEXT_VA + KernelCode.vectors);
    }
    this.tables.toVa = (pa) => KERNEL_LINEAR_VA + pa;
    this.enableDmaBypass(pe, KERNEL_SMMU_VA);
    this.pages = {
      alloc: (p, owner) => {
        const pa = this.kernelFrames.allocate();
        if (pa === undefined) return undefined;
        p.fillBytes(KERNEL_LINEAR_VA + pa, PAGE, 0);
        this.pagesInUse.set(owner, (this.pagesInUse.get(owner) ?? 0) + 1);
        return KERNEL_LINEAR_VA + pa;
      },
      free: (owner, va) => {
        this.kernelFrames.release(va - KERNEL_LINEAR_VA);
        this.pagesInUse.set(owner, (this.pagesInUse.get(owner) ?? 1) - 1);
      },
      paOf: (_owner, va) => va - KERNEL_LINEAR_VA,
      inUse: (owner) => this.pagesInUse.get(owner) ?? 0,
    };
    this.bounces = bounceBuffers(machine.pes.length, this.kernelFrames, KERNEL_LINEAR_VA);
    for (const each of machine.pes) this.goIdle(each);
  }

  /** The linear map of all DRAM (2 MiB blocks, EL1 read/write, never executable) and the text. */
  private mapKernel(pe: ProcessingElement, dram: readonly MemoryRange[]): void {
    for (const bank of alignRanges(dram, MIB2)) {
      for (let pa = bank.base; pa < bank.base + bank.size; pa += MIB2) {
        const [low, high] = leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 2);
        if (!this.tables.set(pe, this.kernelRoot, KERNEL_LINEAR_VA + pa, low, high, 2))
          throw new Error('native kernel: no memory for the linear map');
      }
    }
    const [low, high] = leafDescriptor(this.imageBase, { ap: 2, pxn: false, uxn: true }, 2);
    this.tables.set(pe, this.kernelRoot, KERNEL_TEXT_VA, low, high, 2);
    for (const [va, pa] of [
      [KERNEL_BLOCK_DEVICE_VA, this.firmware.layout.block.base],
      [KERNEL_SMMU_VA, this.firmware.layout.smmu.base],
    ] as const) {
      const [dlow, dhigh] = leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 3);
      this.tables.set(pe, this.kernelRoot, va, dlow, dhigh, 3);
    }
  }

  start(handlers: KernelHandlers): void {
    this.handlers = handlers;
    const vectors = this.imageBase + KernelCode.vectors;
    this.registerEntries(vectors, { syscall: 0x400, fault: 0x200, irq: 0x480 });
    // A synchronous exception from EL0 is a system call only when it is an SVC.
    this.machine.code.unregister(vectors + 0x400);
    this.machine.code.register(vectors + 0x400, 'kernel-sync-el0', (pe) => {
      if (pe.regs.low('ESR_EL1') >>> 26 === 0x15) this.syscallEntry(pe);
      else this.faultEntry(pe);
    });
  }

  // ------------------------------------------------------------------ containers (namespaces only)

  containerCreate(_pe: ProcessingElement, _cid: number, _launch: ContainerLaunch): number {
    return 0;
  }

  containerDestroy(_pe: ProcessingElement, _cid: number): number {
    return 0;
  }

  attest(): number {
    return -95; // EOPNOTSUPP: a native kernel has no measured launch to vouch for
  }

  // ------------------------------------------------------------------ tasks and address spaces

  taskCreate(
    pe: ProcessingElement,
    cid: number,
    parent: HwTask | undefined,
    kind: 'fork' | 'thread' | 'init',
    tls?: number,
  ): NativeTask | number {
    const from = parent as NativeTask | undefined;
    let space: NativeSpace | undefined;
    if (kind === 'thread') {
      space = from?.space;
      if (space !== undefined) space.users++;
    } else if (kind === 'fork') {
      space = this.newSpace(pe);
      if (space === undefined) return -12;
    }
    const task: NativeTask = {
      cid,
      space,
      regs: new Float64Array(31),
      pc: 0,
      spsr: SPSR_EL0T,
      tpidr: 0,
    };
    if (from !== undefined && kind !== 'init') {
      // The child resumes where the parent's system call returns, with x0 = 0.
      task.regs.set(from.regs);
      task.regs[0] = 0;
      task.pc = pe.regs.number('ELR_EL1');
      task.spsr = pe.regs.low('SPSR_EL1');
      task.tpidr = tls ?? pe.regs.number('TPIDR_EL0');
    }
    return task;
  }

  taskExec(pe: ProcessingElement, hw: HwTask, _digest: Uint8Array, _entry: number): number {
    const task = hw as NativeTask;
    const space = this.newSpace(pe);
    if (space === undefined) return -12;
    this.dropSpace(pe, task.space);
    task.space = space;
    if (this.running[pe.id] === task) this.loadSpace(pe, space);
    task.regs.fill(0);
    task.tpidr = 0;
    return 0;
  }

  taskExit(pe: ProcessingElement, hw: HwTask): void {
    const task = hw as NativeTask;
    if (this.running[pe.id] === task) this.goIdle(pe);
    this.dropSpace(pe, task.space);
    task.space = undefined;
  }

  setVma(): number {
    return 0; // the native kernel keeps its VMAs to itself
  }

  mapPage(pe: ProcessingElement, hw: HwTask, va: number, pa: number, prot: number): number {
    const space = (hw as NativeTask).space;
    if (space === undefined) return -22;
    const [low, high] = userLeaf(pa, prot);
    if (!this.setUserEntry(pe, space, va, low, high)) return -12;
    return 0;
  }

  unmapPage(pe: ProcessingElement, hw: HwTask, va: number): number {
    const space = (hw as NativeTask).space;
    if (space === undefined) return 0;
    this.setUserEntry(pe, space, va, 0, 0);
    return 0;
  }

  userPage(): number | undefined {
    const pa = this.userFrames.allocate();
    if (pa !== undefined) this.stats.userPages++;
    return pa;
  }

  slowAllocations(): number {
    return 0; // a native kernel hands out free frames directly: there is no slow path
  }

  freeUserPage(_pe: ProcessingElement, _cid: number, pa: number): void {
    this.userFrames.release(pa);
  }

  populatePage(
    pe: ProcessingElement,
    hw: HwTask,
    va: number,
    dstPa: number,
    prot: number,
    source?: PageSource,
  ): number {
    const dst = KERNEL_LINEAR_VA + dstPa;
    if (source === undefined) pe.fillBytes(dst, PAGE, 0);
    else {
      const bytes = pe.readBytes(KERNEL_LINEAR_VA + source.pa, PAGE);
      if (bytes === undefined || !pe.writeBytes(dst, bytes)) return -14;
    }
    return this.mapPage(pe, hw, va, dstPa, prot);
  }

  // ------------------------------------------------------------------ storage

  disk(_owner: number): { readonly blocks: number; readonly bytesPerBlock: number } {
    return { blocks: DISK_BLOCKS_PER_CONTEXT, bytesPerBlock: PAGE };
  }

  bounce(pe: ProcessingElement): { readonly pa: number; readonly kva: number; readonly bytes: number } {
    return this.bounces[pe.id]!;
  }

  blockToDisk(pe: ProcessingElement, _owner: number, _block: number, srcKva: number): number {
    // A native kernel writes its page cache to the disk in plaintext.
    const data = pe.readBytes(srcKva, PAGE);
    return data !== undefined && pe.writeBytes(this.bounces[pe.id]!.kva, data) ? PAGE : -14;
  }

  blockFromDisk(pe: ProcessingElement, _owner: number, _block: number, dstKva: number): number {
    const data = pe.readBytes(this.bounces[pe.id]!.kva, PAGE);
    return data !== undefined && pe.writeBytes(dstKva, data) ? 0 : -14;
  }

  // ------------------------------------------------------------------ IPC (a native kernel copies)

  sealsIpc(): boolean {
    return false;
  }

  ipcConsent(): number {
    return -95; // EOPNOTSUPP: nothing is sealed under native
  }

  ipcSeal(): number {
    return -95;
  }

  ipcOpen(): number {
    return -95;
  }

  ipcClose(): void {}

  // ------------------------------------------------------------------ running tasks

  enterUser(pe: ProcessingElement, hw: HwTask, threadId: number, start?: UserStart): void {
    const task = hw as NativeTask;
    if (task.space === undefined) throw new Error('native kernel: entering a task without an address space');
    this.running[pe.id] = task;
    this.loadSpace(pe, task.space);
    pe.msrNumber('TPIDRRO_EL0', threadId);
    this.enterSaved(pe, task, start);
  }

  saveUser(pe: ProcessingElement, hw: HwTask, rewind: boolean): void {
    const task = hw as NativeTask;
    const trap: Trap<NativeTask> = {
      hw: task,
      elr: pe.regs.number('ELR_EL1'),
      spsr: pe.regs.low('SPSR_EL1'),
    };
    task.regs.set(pe.x);
    this.saveTrap(pe, trap, rewind);
    this.goIdle(pe);
  }

  // ------------------------------------------------------------------ trap primitives

  protected captureTrap(pe: ProcessingElement, hw: NativeTask): Trap<NativeTask> {
    this.saveRegisters(pe, hw);
    return { hw, elr: pe.regs.number('ELR_EL1'), spsr: pe.regs.low('SPSR_EL1') };
  }

  protected syscallArgs(_pe: ProcessingElement, trap: Trap<NativeTask>): { nr: number; args: number[] } {
    return this.savedSyscall(trap.hw);
  }

  protected returnToUser(pe: ProcessingElement, trap: Trap<NativeTask>, result: number | undefined): void {
    this.resumeSaved(pe, trap, trap.hw, result);
  }

  protected saveTrap(pe: ProcessingElement, trap: Trap<NativeTask>, rewind: boolean, result?: number): void {
    this.keepSaved(pe, trap, trap.hw, rewind, result);
  }

  // ------------------------------------------------------------------ address spaces

  private newSpace(pe: ProcessingElement): NativeSpace | undefined {
    const tables: number[] = [];
    const root = this.tables.newTable(pe);
    if (root === undefined) return undefined;
    tables.push(root);
    const asid = this.freeAsids.pop() ?? this.nextAsid++;
    if (asid > 0xffff) return undefined;
    return { root, asid, tables, users: 1 };
  }

  private dropSpace(pe: ProcessingElement, space: NativeSpace | undefined): void {
    if (space === undefined || --space.users > 0) return;
    for (const table of space.tables) this.kernelFrames.release(table);
    pe.tlbi('ASIDE1IS', space.asid);
    this.freeAsids.push(space.asid);
  }

  private loadSpace(pe: ProcessingElement, space: NativeSpace): void {
    pe.msr('TTBR0_EL1', space.root % 2 ** 32, (Math.floor(space.root / 2 ** 32) | (space.asid << 16)) >>> 0);
  }

  /** Write a level-3 entry of a user space (break-before-make: TLBI the VA for its ASID). */
  private setUserEntry(
    pe: ProcessingElement,
    space: NativeSpace,
    va: number,
    low: number,
    high: number,
  ): boolean {
    const tables = new KernelTables(
      this.tables.toVa,
      () => {
        const pa = this.kernelFrames.allocate();
        if (pa !== undefined) space.tables.push(pa);
        return pa;
      },
      (pa) => this.kernelFrames.release(pa),
    );
    if (!tables.set(pe, space.root, va, low, high, 3)) return false;
    pe.tlbi('VAE1IS', va, space.asid);
    return true;
  }
}
