/**
 * The `rcontainer` design (DESIGN.md §4): the same kernel, deprivileged. Firmware and mini-OS boot
 * first; every hook below reaches the machine through the mini-OS's ABI and the gate (rcCall:
 * SMC into EL3, GPT switch, mini-OS entry), never by writing tables or sensitive registers:
 * - the kernel's own mappings, host address spaces and container address spaces: rc_set_pte,
 *   rc_host_space_*, rc_set_vma, rc_task_clone/exec/exit;
 * - container memory: rc_malloc_mm (CTR pages, PT pages, and SHIM pages for the kernel's data of
 *   that container, reached through its con-shim window only under shim-GPT(c)), rc_copy_page;
 * - running tasks: rc_switch_to_depriv enters a container task; its system calls, faults and IRQs
 *   arrive through its con-shim on a frame in SHIM(c) (no SMC), and rc_switch_to_miniOS saves that
 *   frame when the task must leave the PE.
 * Host processes (cid 0) run in the OS context with their registers saved by the kernel.
 */
import type { Firmware } from '../firmware/monitor.js';
import { leafDescriptor } from '../hw/layout.js';
import type { Machine } from '../hw/machine.js';
import { Access, MmuFault, TranslationResult } from '../hw/mmu.js';
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
import {
  CloneFlag,
  containerWindowVa,
  IPC_OPEN_FIN,
  IpcFlag,
  IpcOutOp,
  ipcOutControl,
  MallocKind,
  MINIOS_RESERVED_AFTER_KERNEL,
  SEALED_BLOCK_BYTES,
  storageTreeBytes,
  PteSpace,
  RcCall,
  rcCall,
  VmaFlag,
} from '../minios/abi.js';
import type { MiniOsParamsInput } from '../minios/config.js';
import { bootPlatform, type Platform as TrustedPlatform } from '../minios/platform.js';
import { DesignBase, type KernelSavedTask, type Trap } from './base.js';
import { bounceBuffers, FrameAllocator, memoryZones } from './frames.js';
import {
  DISK_BLOCKS_PER_CONTEXT,
  KERNEL_BLOCK_DEVICE_VA,
  KERNEL_LINEAR_VA,
  KERNEL_SMMU_VA,
  KERNEL_TEXT_VA,
  KernelCode,
  SPSR_EL0T,
} from './layout.js';
import { GatedTree } from './rc-tables.js';
import { userLeaf } from './user-leaf.js';

const PAGE = 4096;
const MIB2 = 2 ** 21;
/** Containers with a sealed disk at once (their version trees are reserved at boot). */
const MAX_DISKS = 64;
/** Frames given to a container per rc_malloc_mm when its pool runs dry (the slow fault path). */
const REFILL = 16;
/** Bytes of the con-shim frame: x0..x30, ELR, SPSR. */
const FRAME_BYTES = 33 * 8;
/** The frame the con-shim pushes, at the top of the container's last stack page (abi.ts). */
const FRAME_OFFSET = 16 * PAGE - FRAME_BYTES - 8;

/** An address space as the kernel drives it through the gate. */
interface GatedSpace {
  readonly tree: GatedTree;
  /** Host spaces: the id from rc_host_space_create. */
  readonly hostId: number;
  users: number;
}

/**
 * A task under rcontainer. A host process's registers are saved here by the kernel; a container
 * task's live in SHIM(c), and only its TPIDR_EL0 is kept here.
 */
export interface RcTask extends HwTask, KernelSavedTask {
  /** The mini-OS's task id (containers), 0 for a host process. */
  readonly tid: number;
  space: GatedSpace | undefined;
}

/** What the kernel keeps about a container (handles and free lists: never its data). */
interface ContainerState {
  readonly cid: number;
  /** CTR(c) pages not mapped anywhere, and which of them the mini-OS just scrubbed. */
  readonly ctrPool: number[];
  readonly clean: Set<number>;
  /** PT(c) pages not linked anywhere. */
  readonly ptPool: number[];
  /** Kernel data pages of c (SHIM, mapped in its window): VA → PA, and the free ones. */
  readonly shimPages: Map<number, number>;
  readonly shimFree: number[];
  /** Free kernel-data pages still zero from the mini-OS's scrub. */
  readonly shimClean: Set<number>;
  /** Every frame given to the container (they return to the OS when it is destroyed). */
  readonly frames: number[];
  /** PA of the con-shim frame (found by address translation the first time c traps). */
  framePa: number | undefined;
  /** The version tree of its sealed disk (OS pages the kernel leaves alone). */
  readonly tree: { readonly pa: number; readonly pages: number };
}

/** Trap state of a container task: where its frame is. */
interface RcTrap extends Trap<RcTask> {
  readonly frameVa: number;
  /** Gate calls made before the trap was captured (they clobber x1..x30). */
  readonly gateMark: number;
}

/** Options of the rcontainer design. */
export interface RcontainerOptions {
  readonly seed: string | number | Uint8Array;
  readonly minios?: MiniOsParamsInput;
  readonly kernelZoneBytes?: number;
}

/** The rcontainer platform. */
export class RcontainerPlatform extends DesignBase<RcTask> implements Platform {
  readonly design = 'rcontainer' as const;
  readonly blockDeviceVa = KERNEL_BLOCK_DEVICE_VA;
  readonly trusted: TrustedPlatform;
  readonly firmware: Firmware;
  readonly userMemory: readonly MemoryRange[];
  readonly pages: KernelPages;
  /** Faults served from a container's ready pool (fast) or after rc_malloc_mm (slow). */
  readonly stats = { fastFaults: 0, slowFaults: 0, gateCalls: 0 };
  private readonly kernelFrames: FrameAllocator;
  private readonly userFrames: FrameAllocator;
  private readonly imageBase: number;
  private readonly kernelTree = new GatedTree(PteSpace.Kernel, 0);
  private readonly containers = new Map<number, ContainerState>();
  private readonly osPagesInUse = { count: 0 };
  /** An all-zero OS page: rc_copy_page from it zeroes a recycled container page. */
  private zeroPage = 0;
  /** An empty host space each PE can switch to, so that a dying space is loaded nowhere. */
  private idleSpace: GatedSpace | undefined;
  private readonly pendingDestroy: GatedSpace[] = [];
  private readonly result = new TranslationResult();
  private readonly bounces: { readonly pa: number; readonly kva: number; readonly bytes: number }[];
  /** Contiguous OS areas for the version trees of container disks, taken at boot. */
  private readonly treeChunks: number[] = [];

  constructor(machine: Machine, options: RcontainerOptions) {
    super(machine);
    this.trusted = bootPlatform(machine, {
      seed: options.seed,
      ...(options.minios ? { minios: options.minios } : {}),
    });
    this.firmware = this.trusted.firmware;
    const layout = this.firmware.layout;
    this.imageBase = layout.kernel.base;
    const reserved = { base: layout.kernel.base + layout.kernel.size, size: MINIOS_RESERVED_AFTER_KERNEL };
    const zones = memoryZones(layout, [reserved], options.kernelZoneBytes);
    this.kernelFrames = zones.kernel;
    this.userFrames = zones.user;
    this.userMemory = zones.userRanges;
    const pe = machine.pes[0]!;
    this.mapKernel(pe, zones.kernelRanges);
    this.enableDmaBypass(pe, KERNEL_SMMU_VA);
    this.pages = this.kernelPages();
    const zero = this.pages.alloc(pe, 0);
    if (zero === undefined) throw new Error('rcontainer kernel: no memory');
    this.zeroPage = zero - KERNEL_LINEAR_VA;
    this.bounces = bounceBuffers(machine.pes.length, this.kernelFrames, KERNEL_LINEAR_VA);
    const treePages = Math.ceil(storageTreeBytes(DISK_BLOCKS_PER_CONTEXT) / PAGE);
    const trees = this.kernelFrames.allocateContiguous(treePages * MAX_DISKS);
    if (trees === undefined) throw new Error('rcontainer kernel: no memory for disk version trees');
    for (let i = MAX_DISKS - 1; i >= 0; i--) this.treeChunks.push(trees + i * treePages * PAGE);
    for (const each of machine.pes) this.goIdle(each);
  }

  /** rc_* call from `pe` (counted: it clobbers x1..x30 of an interrupted context). */
  private gate(pe: ProcessingElement, call: number, ...args: number[]): number {
    this.stats.gateCalls++;
    return rcCall(pe, call, ...args);
  }

  /** The kernel's text (executable, EL1 only) and the linear map of its zone, via rc_set_pte. */
  private mapKernel(pe: ProcessingElement, zone: readonly MemoryRange[]): void {
    const gate = (call: number, ...args: number[]): number => this.gate(pe, call, ...args);
    const newTable = (): number | undefined => this.userFrames.allocate();
    const text = leafDescriptor(this.imageBase, { ap: 2, pxn: false, uxn: true }, 2);
    if (this.kernelTree.set(gate, KERNEL_TEXT_VA, text[0], text[1], 2, newTable) < 0)
      throw new Error('rcontainer kernel: the mini-OS refused the kernel text mapping');
    for (const [va, pa] of [
      [KERNEL_BLOCK_DEVICE_VA, this.firmware.layout.block.base],
      [KERNEL_SMMU_VA, this.firmware.layout.smmu.base],
    ] as const) {
      const device = leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 3);
      if (this.kernelTree.set(gate, va, device[0], device[1], 3, newTable) < 0)
        throw new Error('rcontainer kernel: the mini-OS refused a device mapping');
    }
    for (const range of zone) {
      for (let pa = range.base; pa < range.base + range.size; pa += MIB2) {
        const [low, high] = leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 2);
        const result = this.kernelTree.set(gate, KERNEL_LINEAR_VA + pa, low, high, 2, newTable);
        if (result < 0)
          throw new Error(
            `rcontainer kernel: the mini-OS refused the linear map at 0x${pa.toString(16)} (${result})`,
          );
      }
    }
  }

  private kernelPages(): KernelPages {
    return {
      alloc: (pe, owner) => (owner === 0 ? this.osPage(pe) : this.shimPage(pe, owner)),
      free: (owner, va) => {
        if (owner === 0) {
          this.osPagesInUse.count--;
          this.kernelFrames.release(va - KERNEL_LINEAR_VA);
        } else this.containers.get(owner)?.shimFree.push(va);
      },
      paOf: (owner, va) =>
        owner === 0 ? va - KERNEL_LINEAR_VA : this.containers.get(owner)?.shimPages.get(va),
      inUse: (owner) => {
        if (owner === 0) return this.osPagesInUse.count;
        const c = this.containers.get(owner);
        return c === undefined ? 0 : c.shimPages.size - c.shimFree.length;
      },
    };
  }

  private osPage(pe: ProcessingElement): number | undefined {
    const pa = this.kernelFrames.allocate();
    if (pa === undefined) return undefined;
    pe.fillBytes(KERNEL_LINEAR_VA + pa, PAGE, 0);
    this.osPagesInUse.count++;
    return KERNEL_LINEAR_VA + pa;
  }

  /** A kernel data page of container `cid` (SHIM(c) in its window); called in c's context. */
  private shimPage(pe: ProcessingElement, cid: number): number | undefined {
    const c = this.containers.get(cid);
    if (c === undefined) return undefined;
    if (c.shimFree.length === 0) this.refillShim(pe, c);
    const va = c.shimFree.pop();
    if (va === undefined) return undefined;
    // Pages fresh from rc_malloc_mm were scrubbed by the mini-OS; recycled ones are zeroed here.
    if (!c.shimClean.delete(va) && !pe.fillBytes(va, PAGE, 0)) return undefined;
    return va;
  }

  /** Give container c REFILL more kernel-data pages (runs of contiguous frames per rc_malloc_mm). */
  private refillShim(pe: ProcessingElement, c: ContainerState): void {
    const frames: number[] = [];
    for (let i = 0; i < REFILL; i++) {
      const pa = this.userFrames.allocate();
      if (pa === undefined) break;
      frames.push(pa);
    }
    frames.sort((a, b) => a - b);
    let runStart = 0;
    for (let i = 1; i <= frames.length; i++) {
      if (i < frames.length && frames[i] === frames[i - 1]! + PAGE) continue;
      const run = frames.slice(runStart, i);
      runStart = i;
      const slot = this.gate(pe, RcCall.MallocMm, c.cid, run[0]!, run.length, MallocKind.Shim);
      if (slot < 0) {
        for (const pa of run) this.userFrames.release(pa);
        continue;
      }
      c.frames.push(...run);
      run.forEach((pa, k) => {
        const va = containerWindowVa(c.cid) + (slot + k) * PAGE;
        c.shimPages.set(va, pa);
        c.shimClean.add(va);
        c.shimFree.push(va);
      });
    }
    c.shimFree.reverse(); // lowest slots first
  }

  start(handlers: KernelHandlers): void {
    this.handlers = handlers;
    this.registerEntries(this.imageBase, KernelCode);
    const pe = this.machine.pes[0]!;
    const result = this.gate(
      pe,
      RcCall.SetKernelEntry,
      KERNEL_TEXT_VA + KernelCode.syscall,
      KERNEL_TEXT_VA + KernelCode.fault,
      KERNEL_TEXT_VA + KernelCode.irq,
    );
    if (result < 0) throw new Error(`rcontainer kernel: rc_set_kernel_entry refused (${result})`);
    const idle = this.newHostSpace(pe);
    if (idle === undefined) throw new Error('rcontainer kernel: no memory for the idle address space');
    this.idleSpace = idle;
    for (const each of this.machine.pes) this.goIdle(each);
  }

  // ------------------------------------------------------------------ containers

  containerCreate(pe: ProcessingElement, cid: number, launch: ContainerLaunch): number {
    if (4 + 32 * launch.binaries.length > PAGE || launch.config.length > PAGE) return -7; // E2BIG
    const list = this.pages.alloc(pe, 0);
    const config = this.pages.alloc(pe, 0);
    if (list === undefined || config === undefined) return -12;
    try {
      const bytes = new Uint8Array(4 + 32 * launch.binaries.length);
      new DataView(bytes.buffer).setUint32(0, launch.binaries.length, true);
      launch.binaries.forEach((d, i) => bytes.set(d, 4 + 32 * i));
      pe.writeBytes(list, bytes);
      pe.writeBytes(config, launch.config);
      const shim = this.gate(pe, RcCall.CreateShim, cid);
      if (shim < 0) return shim;
      const created = this.gate(
        pe,
        RcCall.CreateContainer,
        cid,
        list - KERNEL_LINEAR_VA,
        config - KERNEL_LINEAR_VA,
        launch.config.length,
        launch.policy,
      );
      if (created < 0) {
        this.gate(pe, RcCall.DestroyShim, cid);
        return created;
      }
    } finally {
      this.pages.free(0, list);
      this.pages.free(0, config);
    }
    // Its disk: the version tree lives in OS memory the kernel leaves alone (rc_storage_attach).
    const treeBytes = storageTreeBytes(DISK_BLOCKS_PER_CONTEXT);
    const treePages = Math.ceil(treeBytes / PAGE);
    const tree = this.treeChunks.pop();
    if (tree === undefined || this.gate(pe, RcCall.StorageAttach, cid, DISK_BLOCKS_PER_CONTEXT, tree) < 0) {
      this.gate(pe, RcCall.DestroyContainer, cid);
      this.gate(pe, RcCall.DestroyShim, cid);
      return -12;
    }
    this.containers.set(cid, {
      cid,
      ctrPool: [],
      clean: new Set(),
      ptPool: [],
      shimPages: new Map(),
      shimFree: [],
      shimClean: new Set(),
      frames: [],
      framePa: undefined,
      tree: { pa: tree, pages: treePages },
    });
    return 0;
  }

  containerDestroy(pe: ProcessingElement, cid: number): number {
    const c = this.containers.get(cid);
    if (c === undefined) return -2;
    const destroyed = this.gate(pe, RcCall.DestroyContainer, cid);
    if (destroyed < 0) return destroyed;
    const shim = this.gate(pe, RcCall.DestroyShim, cid);
    if (shim < 0) return shim;
    // Every granule the container had is scrubbed and OS memory again; so is its disk's tree.
    for (const pa of c.frames) this.userFrames.release(pa);
    this.treeChunks.push(c.tree.pa);
    this.containers.delete(cid);
    return 0;
  }

  attest(pe: ProcessingElement, cid: number, nonce: Uint8Array): Uint8Array | number {
    const noncePage = this.pages.alloc(pe, 0);
    const out = this.pages.alloc(pe, 0);
    if (noncePage === undefined || out === undefined) return -12;
    try {
      if (!pe.writeBytes(noncePage, nonce)) return -14;
      const bytes = this.gate(
        pe,
        RcCall.Attest,
        cid,
        noncePage - KERNEL_LINEAR_VA,
        nonce.length,
        out - KERNEL_LINEAR_VA,
        PAGE,
      );
      if (bytes < 0) return bytes;
      return pe.readBytes(out, bytes) ?? -14;
    } finally {
      this.pages.free(0, noncePage);
      this.pages.free(0, out);
    }
  }

  // ------------------------------------------------------------------ tasks and address spaces

  taskCreate(
    pe: ProcessingElement,
    cid: number,
    parent: HwTask | undefined,
    kind: 'fork' | 'thread' | 'init',
    tls?: number,
  ): RcTask | number {
    const from = parent as RcTask | undefined;
    let space: GatedSpace | undefined;
    let tid = 0;
    if (cid === 0) {
      if (kind === 'thread') {
        space = from?.space;
        if (space !== undefined) space.users++;
      } else if (kind === 'fork') {
        space = this.newHostSpace(pe);
        if (space === undefined) return -12;
      }
    } else {
      const c = this.containers.get(cid);
      if (c === undefined) return -2;
      const framePa = kind === 'init' ? 0 : this.framePaOf(pe, c);
      // A first task has no parent; a process entering the running container names a task of it.
      if (kind === 'init') tid = this.gate(pe, RcCall.TaskClone, cid, from?.tid ?? 0, 0, 0, 0);
      else if (kind === 'thread') {
        tid = this.gate(pe, RcCall.TaskClone, cid, from!.tid, 0, CloneFlag.Vm, framePa);
        space = from!.space;
        if (tid >= 0 && space !== undefined) space.users++;
      } else {
        const root = this.ptPage(pe, c);
        if (root === undefined) return -12;
        tid = this.gate(pe, RcCall.TaskClone, cid, from!.tid, root, 0, framePa);
        if (tid < 0) c.ptPool.push(root);
        else {
          space = { tree: new GatedTree(cid, tid), hostId: 0, users: 1 };
          space.tree.tables.push(root);
        }
      }
      if (tid < 0) return tid;
    }
    const task: RcTask = { cid, tid, space, regs: new Float64Array(31), pc: 0, spsr: SPSR_EL0T, tpidr: 0 };
    if (from !== undefined && kind !== 'init') {
      task.tpidr = tls ?? pe.regs.number('TPIDR_EL0');
      if (cid === 0) {
        task.regs.set(from.regs);
        task.regs[0] = 0;
        task.pc = pe.regs.number('ELR_EL1');
        task.spsr = pe.regs.low('SPSR_EL1');
      }
    }
    return task;
  }

  taskExec(pe: ProcessingElement, hw: HwTask, digest: Uint8Array, entry: number): number {
    const task = hw as RcTask;
    if (task.cid === 0) {
      const space = this.newHostSpace(pe);
      if (space === undefined) return -12;
      const old = task.space;
      task.space = space;
      if (this.running[pe.id] === task) this.gate(pe, RcCall.HostSpaceSwitch, space.hostId);
      this.dropSpace(pe, old);
      task.regs.fill(0);
      task.tpidr = 0;
      return 0;
    }
    const c = this.containers.get(task.cid);
    if (c === undefined) return -2;
    const digestPage = this.pages.alloc(pe, 0);
    const root = this.ptPage(pe, c);
    if (digestPage === undefined || root === undefined) return -12;
    pe.writeBytes(digestPage, digest);
    const result = this.gate(
      pe,
      RcCall.TaskExec,
      task.cid,
      task.tid,
      digestPage - KERNEL_LINEAR_VA,
      entry,
      root,
    );
    this.pages.free(0, digestPage);
    if (result < 0) {
      c.ptPool.push(root);
      return result;
    }
    const old = task.space;
    task.space = { tree: new GatedTree(task.cid, task.tid), hostId: 0, users: 1 };
    task.space.tree.tables.push(root);
    if (old !== undefined && --old.users === 0) c.ptPool.push(...old.tree.tables);
    task.tpidr = 0;
    return 0;
  }

  taskExit(pe: ProcessingElement, hw: HwTask): void {
    const task = hw as RcTask;
    if (task.cid === 0) {
      if (this.running[pe.id] === task) this.goIdle(pe);
      this.dropSpace(pe, task.space);
      task.space = undefined;
      return;
    }
    const c = this.containers.get(task.cid);
    if (this.running[pe.id] === task && c !== undefined) {
      // A running task is stopped first (its context saved in SHIM(c)); the PE is then in the OS context.
      this.gate(pe, RcCall.SwitchToMiniOs, 1, task.cid, task.tid, this.framePaOf(pe, c));
      this.goIdle(pe);
    }
    this.gate(pe, RcCall.TaskExit, task.cid, task.tid);
    const space = task.space;
    if (space !== undefined && --space.users === 0 && c !== undefined) c.ptPool.push(...space.tree.tables);
    task.space = undefined;
  }

  setVma(pe: ProcessingElement, hw: HwTask, start: number, end: number, prot: number): number {
    const task = hw as RcTask;
    if (task.cid === 0) return 0; // host spaces have no VMA records in the mini-OS
    return this.gate(pe, RcCall.SetVma, task.cid, task.tid, start, end, prot < 0 ? VmaFlag.Remove : prot);
  }

  mapPage(pe: ProcessingElement, hw: HwTask, va: number, pa: number, prot: number): number {
    const task = hw as RcTask;
    const space = task.space;
    if (space === undefined) return -22;
    const [low, high] = userLeaf(pa, prot);
    const gate = (call: number, ...args: number[]): number => this.gate(pe, call, ...args);
    return space.tree.set(gate, va, low, high, 3, () => this.tablePage(pe, task.cid));
  }

  unmapPage(pe: ProcessingElement, hw: HwTask, va: number): number {
    const space = (hw as RcTask).space;
    if (space === undefined || !space.tree.hasTable(va, 3)) return 0;
    const gate = (call: number, ...args: number[]): number => this.gate(pe, call, ...args);
    return space.tree.set(gate, va, 0, 0, 3, () => undefined);
  }

  userPage(pe: ProcessingElement, cid: number): number | undefined {
    if (cid === 0) return this.kernelFrames.allocate();
    const c = this.containers.get(cid);
    if (c === undefined) return undefined;
    if (c.ctrPool.length === 0) {
      if (!this.refill(pe, c, MallocKind.Ctr, c.ctrPool)) return undefined;
      this.stats.slowFaults++;
      for (const pa of c.ctrPool) c.clean.add(pa);
    } else this.stats.fastFaults++;
    return c.ctrPool.pop();
  }

  slowAllocations(): number {
    return this.stats.slowFaults;
  }

  freeUserPage(_pe: ProcessingElement, cid: number, pa: number): void {
    if (cid === 0) {
      this.kernelFrames.release(pa);
      return;
    }
    const c = this.containers.get(cid);
    if (c === undefined) return;
    c.clean.delete(pa);
    c.ctrPool.push(pa);
  }

  populatePage(
    pe: ProcessingElement,
    hw: HwTask,
    va: number,
    dstPa: number,
    prot: number,
    source?: PageSource,
  ): number {
    const task = hw as RcTask;
    if (task.cid === 0) {
      // Host pages are in the kernel's zone: zeroed or filled through the linear map.
      const dst = KERNEL_LINEAR_VA + dstPa;
      if (source === undefined) pe.fillBytes(dst, PAGE, 0);
      else {
        const bytes = pe.readBytes(source.kva ?? KERNEL_LINEAR_VA + source.pa, PAGE);
        if (bytes === undefined || !pe.writeBytes(dst, bytes)) return -14;
      }
      return this.mapPage(pe, hw, va, dstPa, prot);
    }
    const c = this.containers.get(task.cid)!;
    // Container pages are filled by the mini-OS (rc_copy_page): the kernel never writes them.
    const fresh = c.clean.delete(dstPa);
    if (source !== undefined || !fresh) {
      const copied = this.gate(pe, RcCall.CopyPage, task.cid, dstPa, source?.pa ?? this.zeroPage);
      if (copied < 0) return copied;
    }
    return this.mapPage(pe, hw, va, dstPa, prot);
  }

  // ------------------------------------------------------------------ storage

  disk(owner: number): { readonly blocks: number; readonly bytesPerBlock: number } {
    return { blocks: DISK_BLOCKS_PER_CONTEXT, bytesPerBlock: owner === 0 ? PAGE : SEALED_BLOCK_BYTES };
  }

  bounce(pe: ProcessingElement): { readonly pa: number; readonly kva: number; readonly bytes: number } {
    return this.bounces[pe.id]!;
  }

  blockToDisk(pe: ProcessingElement, owner: number, block: number, srcKva: number): number {
    const bounce = this.bounces[pe.id]!;
    if (owner === 0) {
      const data = pe.readBytes(srcKva, PAGE);
      return data !== undefined && pe.writeBytes(bounce.kva, data) ? PAGE : -14;
    }
    // A container's block leaves only as a record the mini-OS sealed (AES-256-GCM, versioned).
    const srcPa = this.containers.get(owner)?.shimPages.get(srcKva);
    if (srcPa === undefined) return -22;
    const version = this.gate(pe, RcCall.SealBlock, owner, block, srcPa, bounce.pa);
    return version < 0 ? version : SEALED_BLOCK_BYTES;
  }

  blockFromDisk(pe: ProcessingElement, owner: number, block: number, dstKva: number): number {
    const bounce = this.bounces[pe.id]!;
    if (owner === 0) {
      const data = pe.readBytes(bounce.kva, PAGE);
      return data !== undefined && pe.writeBytes(dstKva, data) ? 0 : -14;
    }
    const dstPa = this.containers.get(owner)?.shimPages.get(dstKva);
    if (dstPa === undefined) return -22;
    const version = this.gate(pe, RcCall.OpenBlock, owner, block, bounce.pa, dstPa);
    return version < 0 ? version : 0;
  }

  // ------------------------------------------------------------------ IPC leaving a container

  sealsIpc(from: number, to: number): boolean {
    return from !== to;
  }

  ipcConsent(pe: ProcessingElement, self: number, peer: number, channel?: number): number {
    if (channel === undefined) return this.gate(pe, RcCall.IpcOut, self, peer, ipcOutControl(IpcOutOp.Offer));
    return this.gate(pe, RcCall.IpcOut, self, peer, ipcOutControl(IpcOutOp.Accept), channel);
  }

  ipcSeal(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    srcKva: number,
    length: number,
    frameKva: number,
    fin: boolean,
  ): number {
    const srcPa = this.kernelPa(from, srcKva);
    const frame = this.kernelPa(0, frameKva);
    if (srcPa === undefined || frame === undefined) return -22;
    const control = ipcOutControl(IpcOutOp.Seal, length, fin ? IpcFlag.Fin : 0);
    return this.gate(pe, RcCall.IpcOut, from, to, control, channel, srcPa, frame);
  }

  ipcOpen(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    frameKva: number,
    frameLength: number,
    dstKva: number,
  ): { readonly bytes: number; readonly fin: boolean } | number {
    const frame = this.kernelPa(0, frameKva);
    const dstPa = this.kernelPa(to, dstKva);
    if (frame === undefined || dstPa === undefined) return -22;
    const control = ipcOutControl(IpcOutOp.Open, frameLength);
    const result = this.gate(pe, RcCall.IpcOut, from, to, control, channel, frame, dstPa);
    if (result < 0) return result;
    return { bytes: result % IPC_OPEN_FIN, fin: result >= IPC_OPEN_FIN };
  }

  ipcClose(pe: ProcessingElement, self: number, peer: number, channel: number): void {
    this.gate(pe, RcCall.IpcOut, self, peer, ipcOutControl(IpcOutOp.Close), channel);
  }

  /** PA of a kernel page of `owner` (its linear-map or window VA). */
  private kernelPa(owner: number, kva: number): number | undefined {
    const page = Math.floor(kva / PAGE) * PAGE;
    const pa = this.pages.paOf(owner, page);
    return pa === undefined ? undefined : pa + (kva - page);
  }

  // ------------------------------------------------------------------ running tasks

  enterUser(pe: ProcessingElement, hw: HwTask, threadId: number, start?: UserStart): void {
    const task = hw as RcTask;
    this.running[pe.id] = task;
    pe.msrNumber('TPIDRRO_EL0', threadId);
    if (task.cid === 0) {
      if (task.space === undefined)
        throw new Error('rcontainer kernel: entering a task without an address space');
      this.gate(pe, RcCall.HostSpaceSwitch, task.space.hostId);
      this.destroyPending(pe);
      this.enterSaved(pe, task, start);
      return;
    }
    pe.msrNumber('TPIDR_EL0', start !== undefined ? 0 : task.tpidr);
    // The mini-OS loads the task's validated address space and context (a new image's context is
    // the fresh one rc_task_exec wrote), switches to shim-GPT(c) and ERETs to EL0.
    // On success control leaves for EL0 (x0 is then the task's own register, not a result).
    const result = this.gate(pe, RcCall.SwitchToDepriv, task.cid, task.tid);
    if (pe.el !== 0) throw new Error(`rcontainer kernel: rc_switch_to_depriv refused (${result})`);
  }

  saveUser(pe: ProcessingElement, hw: HwTask, rewind: boolean): void {
    const task = hw as RcTask;
    const trap = this.captureTrap(pe, task);
    this.saveTrap(pe, trap, rewind);
    this.goIdle(pe);
  }

  // ------------------------------------------------------------------ trap primitives

  protected captureTrap(pe: ProcessingElement, hw: RcTask): RcTrap {
    const elr = pe.regs.number('ELR_EL1');
    const spsr = pe.regs.low('SPSR_EL1');
    if (hw.cid === 0) {
      this.saveRegisters(pe, hw);
      return { hw, elr, spsr, frameVa: 0, gateMark: this.stats.gateCalls };
    }
    // The con-shim pushed the interrupted registers on the container's stack and passed it in x0.
    return { hw, elr, spsr, frameVa: pe.x[0]!, gateMark: this.stats.gateCalls };
  }

  protected syscallArgs(pe: ProcessingElement, trap: Trap<RcTask>): { nr: number; args: number[] } {
    const t = trap as RcTrap;
    if (t.hw.cid === 0) return this.savedSyscall(t.hw);
    const x = pe.x;
    return { nr: x[8]!, args: [loadSigned(pe, t.frameVa), x[1]!, x[2]!, x[3]!, x[4]!, x[5]!] };
  }

  protected returnToUser(pe: ProcessingElement, trap: Trap<RcTask>, result: number | undefined): void {
    const t = trap as RcTrap;
    if (t.hw.cid === 0) return this.resumeSaved(pe, t, t.hw, result);
    // x0 was replaced by the frame pointer; any gate call since cleared the others.
    if (this.stats.gateCalls !== t.gateMark) this.reloadRegisters(pe, t.frameVa);
    pe.x[0] = result ?? loadSigned(pe, t.frameVa);
    if (t.lr !== undefined) pe.x[30] = t.lr;
    this.eretToUser(pe, t.elr, t.spsr);
  }

  protected saveTrap(pe: ProcessingElement, trap: Trap<RcTask>, rewind: boolean, result?: number): void {
    const t = trap as RcTrap;
    const task = t.hw;
    if (task.cid === 0) return this.keepSaved(pe, t, task, rewind, result);
    task.tpidr = pe.regs.number('TPIDR_EL0');
    if (result !== undefined) storeWord(pe, t.frameVa, result);
    if (t.lr !== undefined) storeWord(pe, t.frameVa + 30 * 8, t.lr);
    // The frame's PC: as trapped, rewound to the SVC, or where the kernel sends the task (a signal
    // handler, a restarted call): the kernel serving c may write c's con-shim frame (DESIGN.md §5).
    storeWord(pe, t.frameVa + 31 * 8, rewind ? t.elr - 4 : t.elr);
    const c = this.containers.get(task.cid)!;
    // The mini-OS copies the frame into the task's context and returns here in the OS context.
    this.gate(pe, RcCall.SwitchToMiniOs, 1, task.cid, task.tid, this.framePaOf(pe, c));
  }

  // ------------------------------------------------------------------ helpers

  /** PA of container c's con-shim frame: an address translation (AT S1E1R) in c's context. */
  private framePaOf(pe: ProcessingElement, c: ContainerState): number {
    if (c.framePa !== undefined) return c.framePa;
    const va = containerWindowVa(c.cid) + FRAME_OFFSET;
    pe.probe(va, 1, Access.Read, this.result);
    if (this.result.fault !== MmuFault.None) return 0;
    c.framePa = this.result.pa;
    return c.framePa;
  }

  private reloadRegisters(pe: ProcessingElement, frameVa: number): void {
    const bytes = pe.readBytes(frameVa, 31 * 8);
    if (bytes === undefined) return;
    const view = new DataView(bytes.buffer);
    for (let r = 1; r <= 30; r++)
      pe.x[r] = view.getInt32(8 * r + 4, true) * 2 ** 32 + view.getUint32(8 * r, true);
  }

  /** A PT(c) page for a table (from the container's pool, refilled with rc_malloc_mm). */
  private ptPage(pe: ProcessingElement, c: ContainerState): number | undefined {
    if (c.ptPool.length === 0 && !this.refill(pe, c, MallocKind.Pt, c.ptPool)) return undefined;
    return c.ptPool.pop();
  }

  /** A table page: PT(c) for a container, an OS page outside the linear map for the host. */
  private tablePage(pe: ProcessingElement, cid: number): number | undefined {
    if (cid === 0) return this.userFrames.allocate();
    const c = this.containers.get(cid);
    return c === undefined ? undefined : this.ptPage(pe, c);
  }

  /** Give REFILL frames to container c as `kind` (runs of contiguous frames per rc_malloc_mm). */
  private refill(pe: ProcessingElement, c: ContainerState, kind: number, pool: number[]): boolean {
    const frames: number[] = [];
    for (let i = 0; i < REFILL; i++) {
      const pa = this.userFrames.allocate();
      if (pa === undefined) break;
      frames.push(pa);
    }
    if (frames.length === 0) return false;
    frames.sort((a, b) => a - b);
    let runStart = 0;
    for (let i = 1; i <= frames.length; i++) {
      if (i < frames.length && frames[i] === frames[i - 1]! + PAGE) continue;
      const base = frames[runStart]!;
      const count = i - runStart;
      if (this.gate(pe, RcCall.MallocMm, c.cid, base, count, kind) < 0) {
        for (const pa of frames.slice(runStart, i)) this.userFrames.release(pa);
      } else {
        const run = frames.slice(runStart, i);
        pool.push(...run.reverse());
        c.frames.push(...run);
      }
      runStart = i;
    }
    return pool.length > 0;
  }

  private newHostSpace(pe: ProcessingElement): GatedSpace | undefined {
    const root = this.userFrames.allocate();
    if (root === undefined) return undefined;
    const id = this.gate(pe, RcCall.HostSpaceCreate, root);
    if (id < 0) {
      this.userFrames.release(root);
      return undefined;
    }
    const tree = new GatedTree(PteSpace.Kernel, id);
    tree.tables.push(root);
    return { tree, hostId: id, users: 1 };
  }

  /** The last user of a host space is gone: destroy it once no PE has it loaded. */
  private dropSpace(pe: ProcessingElement, space: GatedSpace | undefined): void {
    if (space === undefined || --space.users > 0) return;
    this.pendingDestroy.push(space);
    if (this.running[pe.id] === undefined && this.idleSpace !== undefined)
      this.gate(pe, RcCall.HostSpaceSwitch, this.idleSpace.hostId);
    this.destroyPending(pe);
  }

  /** Destroy the pending host spaces no PE still has in TTBR0_EL1 (EBUSY ones wait). */
  private destroyPending(pe: ProcessingElement): void {
    for (let i = this.pendingDestroy.length - 1; i >= 0; i--) {
      const space = this.pendingDestroy[i]!;
      if (this.gate(pe, RcCall.HostSpaceDestroy, space.hostId) < 0) continue;
      this.pendingDestroy.splice(i, 1);
      // The mini-OS scrubbed the tables and gave them back to the OS.
      for (const table of space.tree.tables) this.userFrames.release(table);
    }
  }

  /** rc_* calls by name, from the mini-OS's own counters. */
  callCounts(): Record<string, number> {
    return { ...this.trusted.minios.stats.calls };
  }
}

/** A u64 register image at `va` as a signed number. */
function loadSigned(pe: ProcessingElement, va: number): number {
  const low = pe.load32(va);
  const high = pe.load32(va + 4);
  return (high >= 2 ** 31 ? high - 2 ** 32 : high) * 2 ** 32 + low;
}

/** Store a register value (a double < 2^53, two's complement if negative) as a u64 at `va`. */
function storeWord(pe: ProcessingElement, va: number, value: number): void {
  const v = value < 0 ? value + 2 ** 64 : value;
  const high = Math.floor(v / 2 ** 32);
  pe.store64(va, (v - high * 2 ** 32) >>> 0, high >>> 0);
}
