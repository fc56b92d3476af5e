/**
 * An address space as the kernel keeps it (Linux's mm_struct): the VMAs, which physical page backs
 * each touched virtual page, the heap break and the areas the platform was told about. Pages are
 * faulted in on demand and copied on write after fork; every change to the hardware tables goes
 * through the platform hooks (a direct write under `native`, rc_set_vma/rc_set_pte under
 * `rcontainer`).
 */
import type { ProcessingElement } from '../../hw/pe.js';
import type { HwTask, PageSource, Platform } from '../hooks.js';
import { PROT } from '../uapi/flags.js';
import { HEAP_BASE, MMAP_BOTTOM, MMAP_TOP, PAGE } from './layout.js';
import type { MemoryLimits } from './memory-limits.js';
import type { PageRefs } from './page-refs.js';
import { VmaList, type Vma } from './vma.js';

/** A touched page: its frame, and how the hardware maps it now. */
interface PageEntry {
  pa: number;
  /** A leaf maps it in the hardware tables. */
  mapped: boolean;
  /** That leaf allows writes. */
  writable: boolean;
}

/** What an operation on an address space needs: the machine, and a task that uses the space. */
export interface MmEnv {
  readonly platform: Platform;
  readonly pe: ProcessingElement;
  readonly hw: HwTask;
  readonly refs: PageRefs;
  /** Per-container limits: every user page is taken and given back through them. */
  readonly memory: MemoryLimits;
}

/** Result of a page fault. */
export const FaultResult = { Ok: 0, Segv: 1, Oom: 2 } as const;
export type FaultResult = (typeof FaultResult)[keyof typeof FaultResult];

/** Counters of an address space's faults. */
export interface MmStats {
  faults: number;
  cowCopies: number;
}

/** A process address space. */
export class Mm {
  readonly vmas = new VmaList();
  /** Container of the space (0 = a host process). */
  readonly cid: number;
  /** Tasks using the space (threads share it). */
  users = 1;
  brkStart = HEAP_BASE;
  brk = HEAP_BASE;
  readonly stats: MmStats = { faults: 0, cowCopies: 0 };
  private readonly pages = new Map<number, PageEntry>();
  /** The areas registered with the platform (setVma), kept equal to `vmas` piece by piece. */
  private hwVmas: { start: number; end: number; prot: number }[] = [];

  constructor(cid: number) {
    this.cid = cid;
  }

  /** Resident pages. */
  get residentPages(): number {
    return this.pages.size;
  }

  /**
   * Add an area over a free range, registering it with the platform. 0 or -errno from the platform.
   */
  addVma(env: MmEnv, vma: Vma): number {
    this.vmas.insert(vma);
    return this.syncHw(env, vma.start, vma.end);
  }

  /** Unmap [start, end): drop its pages and areas. 0 or -errno. */
  unmap(env: MmEnv, start: number, end: number): number {
    for (const piece of this.vmas.remove(start, end)) {
      piece.file?.release();
      piece.segment?.release(env.refs);
    }
    for (const va of this.touchedPages(start, end)) this.dropPage(env, va);
    return this.syncHw(env, start, end);
  }

  /** Change the protection of [start, end); -ENOMEM (as Linux) when part of it is not mapped. */
  protect(env: MmEnv, start: number, end: number, prot: number): number {
    // mm/mprotect.c: PROT_EXEC needs VM_MAYEXEC, which a file of a noexec mount never has.
    const noExecFile = this.vmas.all.some((v) => v.start < end && v.end > start && v.file?.noExec === true);
    if ((prot & PROT.EXEC) !== 0 && noExecFile && this.vmas.covers(start, end)) return -13;
    if (!this.vmas.protect(start, end, prot)) return -12;
    return this.syncHw(env, start, end);
  }

  /** A free range of `length` bytes for mmap, top-down; undefined if none. */
  findGap(length: number): number | undefined {
    let top = MMAP_TOP;
    const areas = [...this.vmas.all].reverse();
    for (const vma of areas) {
      if (vma.start >= top) continue;
      if (vma.end <= top - length) return top - length;
      top = Math.min(top, vma.start);
    }
    return top - length >= MMAP_BOTTOM ? top - length : undefined;
  }

  /**
   * Handle a fault at `va` for `access` ('read', 'write' or 'exec'): map the page (a fresh page,
   * a file page copy, or a copy of a shared page) or report a segmentation fault.
   */
  fault(env: MmEnv, va: number, access: 'read' | 'write' | 'exec'): FaultResult {
    this.stats.faults++;
    const page = Math.floor(va / PAGE) * PAGE;
    const vma = this.vmas.find(page);
    const need = access === 'write' ? PROT.WRITE : access === 'exec' ? PROT.EXEC : PROT.READ;
    if (vma === undefined || (vma.prot & need) === 0) return FaultResult.Segv;
    const entry = this.pages.get(page);
    if (entry === undefined) return this.populate(env, vma, page);
    const shared = !vma.shared && env.refs.count(entry.pa) > 1;
    if (access !== 'write' || !shared) {
      // Present but not mapped (after fork or a VMA change), or a write to a page no one else has.
      const prot = shared ? vma.prot & ~PROT.WRITE : vma.prot;
      if (env.platform.mapPage(env.pe, env.hw, page, entry.pa, prot) < 0) return FaultResult.Oom;
      entry.mapped = true;
      entry.writable = (prot & PROT.WRITE) !== 0;
      return FaultResult.Ok;
    }
    // Copy on write: the copy is made from the page as this task maps it now (read-only).
    if (!entry.mapped) {
      if (env.platform.mapPage(env.pe, env.hw, page, entry.pa, vma.prot & ~PROT.WRITE) < 0)
        return FaultResult.Oom;
      entry.mapped = true;
    }
    const copy = env.memory.take(env.platform, env.pe, this.cid);
    if (copy === undefined) return FaultResult.Oom;
    if (env.platform.populatePage(env.pe, env.hw, page, copy, vma.prot, { pa: entry.pa }) < 0) {
      env.memory.give(env.platform, env.pe, this.cid, copy);
      return FaultResult.Oom;
    }
    this.stats.cowCopies++;
    env.refs.drop(entry.pa);
    env.refs.add(copy);
    entry.pa = copy;
    entry.writable = (vma.prot & PROT.WRITE) !== 0;
    return FaultResult.Ok;
  }

  /**
   * Fork: `child` gets copies of the areas and shares every page; private pages become copy on
   * write (write-protected here, mapped read-only in the child when it touches them).
   */
  forkInto(env: MmEnv, child: Mm): number {
    for (const vma of this.vmas.all) child.vmas.insert({ ...vma });
    child.brkStart = this.brkStart;
    child.brk = this.brk;
    child.hwVmas = this.hwVmas.map((v) => ({ ...v }));
    for (const [va, entry] of this.pages) {
      const vma = this.vmas.find(va);
      if (vma === undefined) continue;
      if (!vma.shared && entry.writable) {
        if (env.platform.mapPage(env.pe, env.hw, va, entry.pa, vma.prot & ~PROT.WRITE) < 0) return -12;
        entry.writable = false;
      }
      env.refs.add(entry.pa);
      child.pages.set(va, { pa: entry.pa, mapped: false, writable: false });
    }
    return 0;
  }

  /** Register the areas of a space that shares nothing with the platform (after fork into a fresh one). */
  registerAll(env: MmEnv): number {
    for (const v of this.hwVmas) {
      const result = env.platform.setVma(env.pe, env.hw, v.start, v.end, v.prot);
      if (result < 0) return result;
    }
    return 0;
  }

  /**
   * Drop every page and area (exit or exec: the platform tears the hardware tables down itself).
   * Pages nobody else maps go back to their pool.
   */
  release(env: MmEnv): void {
    for (const entry of this.pages.values()) {
      if (env.refs.drop(entry.pa)) env.memory.give(env.platform, env.pe, this.cid, entry.pa);
    }
    this.pages.clear();
    for (const vma of this.vmas.all) vma.segment?.release(env.refs);
    this.vmas.clear();
    this.hwVmas = [];
  }

  /**
   * Before the platform drops this space (the last task exits or execs): unmap every page another
   * holder still references (a copy-on-write sibling, a shared segment). Under `rcontainer` the
   * mini-OS scrubs the CTR granules that only the dying space maps (rc_task_exit / rc_task_exec),
   * which would wipe a page a sibling has not faulted in yet or a segment still holds; a page
   * without a leaf here is not scrubbed and faults back in wherever it is still referenced.
   */
  detachShared(env: MmEnv): void {
    for (const [va, entry] of this.pages) {
      if (!entry.mapped || env.refs.count(entry.pa) <= 1) continue;
      env.platform.unmapPage(env.pe, env.hw, va);
      entry.mapped = false;
      entry.writable = false;
    }
  }

  /** The frame backing `va` now, if it was touched (for /proc/<pid>/mem of an absent page). */
  frameOf(va: number): number | undefined {
    return this.pages.get(Math.floor(va / PAGE) * PAGE)?.pa;
  }

  private populate(env: MmEnv, vma: Vma, page: number): FaultResult {
    if (vma.segment !== undefined) return this.populateShared(env, vma, page);
    const pa = env.memory.take(env.platform, env.pe, this.cid);
    if (pa === undefined) return FaultResult.Oom;
    let source: PageSource | undefined;
    if (vma.file !== undefined) {
      const filePage = vma.file.page(vma.fileOffset + (page - vma.start));
      if (filePage !== undefined) source = { pa: filePage.pa, kva: filePage.kva };
    }
    if (env.platform.populatePage(env.pe, env.hw, page, pa, vma.prot, source) < 0) {
      env.memory.give(env.platform, env.pe, this.cid, pa);
      return FaultResult.Oom;
    }
    env.refs.add(pa);
    this.pages.set(page, { pa, mapped: true, writable: (vma.prot & PROT.WRITE) !== 0 });
    return FaultResult.Ok;
  }

  /** Map page `page` of a shared segment, allocating (zeroed) the segment's frame on first touch. */
  private populateShared(env: MmEnv, vma: Vma, page: number): FaultResult {
    const segment = vma.segment!;
    const index = (vma.fileOffset + (page - vma.start)) / PAGE;
    if (index >= segment.frames.length) return FaultResult.Segv;
    let pa = segment.frames[index];
    if (pa === undefined) {
      pa = env.memory.take(env.platform, env.pe, this.cid);
      if (pa === undefined) return FaultResult.Oom;
      if (env.platform.populatePage(env.pe, env.hw, page, pa, vma.prot) < 0) {
        env.memory.give(env.platform, env.pe, this.cid, pa);
        return FaultResult.Oom;
      }
      segment.frames[index] = pa;
      env.refs.add(pa); // the segment's own reference
    } else if (env.platform.mapPage(env.pe, env.hw, page, pa, vma.prot) < 0) return FaultResult.Oom;
    env.refs.add(pa);
    this.pages.set(page, { pa, mapped: true, writable: (vma.prot & PROT.WRITE) !== 0 });
    return FaultResult.Ok;
  }

  /**
   * Map a page filled from `source` at `va` (exec's argument page): a fresh frame, recorded like a
   * faulted-in page. 0 or -errno.
   */
  installPage(env: MmEnv, va: number, prot: number, source: PageSource): number {
    const pa = env.memory.take(env.platform, env.pe, this.cid);
    if (pa === undefined) return -12;
    const result = env.platform.populatePage(env.pe, env.hw, va, pa, prot, source);
    if (result < 0) {
      env.memory.give(env.platform, env.pe, this.cid, pa);
      return result;
    }
    env.refs.add(pa);
    this.pages.set(va, { pa, mapped: true, writable: (prot & PROT.WRITE) !== 0 });
    return 0;
  }

  /** Touched pages in [start, end), by walking whichever is smaller: the range or the page map. */
  private touchedPages(start: number, end: number): number[] {
    if ((end - start) / PAGE <= this.pages.size) {
      const out: number[] = [];
      for (let va = start; va < end; va += PAGE) if (this.pages.has(va)) out.push(va);
      return out;
    }
    return [...this.pages.keys()].filter((va) => va >= start && va < end);
  }

  private dropPage(env: MmEnv, va: number): void {
    const entry = this.pages.get(va);
    if (entry === undefined) return;
    if (entry.mapped) env.platform.unmapPage(env.pe, env.hw, va);
    this.pages.delete(va);
    if (env.refs.drop(entry.pa)) env.memory.give(env.platform, env.pe, this.cid, entry.pa);
  }

  /**
   * Make the platform's areas equal to `vmas` around [start, end): every registered area that
   * touches the range is unmapped (its leaves too: a VMA cannot change under a leaf) and removed,
   * then the kernel's areas over the same span are registered. Pages stay and fault back in.
   */
  private syncHw(env: MmEnv, start: number, end: number): number {
    const touched = this.hwVmas.filter((v) => v.start < end && v.end > start);
    const spanStart = Math.min(start, ...touched.map((v) => v.start));
    const spanEnd = Math.max(end, ...touched.map((v) => v.end));
    for (const v of touched) {
      for (const va of this.touchedPages(v.start, v.end)) {
        const entry = this.pages.get(va);
        if (entry?.mapped === true) {
          env.platform.unmapPage(env.pe, env.hw, va);
          entry.mapped = false;
          entry.writable = false;
        }
      }
      const removed = env.platform.setVma(env.pe, env.hw, v.start, v.end, -1);
      if (removed < 0) return removed;
    }
    this.hwVmas = this.hwVmas.filter((v) => !touched.includes(v));
    for (const vma of this.vmas.all) {
      if (vma.end <= spanStart || vma.start >= spanEnd) continue;
      const result = env.platform.setVma(env.pe, env.hw, vma.start, vma.end, vma.prot);
      if (result < 0) return result;
      this.hwVmas.push({ start: vma.start, end: vma.end, prot: vma.prot });
    }
    this.hwVmas.sort((a, b) => a.start - b.start);
    return 0;
  }
}
