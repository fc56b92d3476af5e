/**
 * Per-container memory limits (the engine's `--memory`, cgroup v2 `memory.max` for user memory):
 * every user page a container's address spaces take from the platform is charged to it, and a
 * page fault that would go over the limit fails, so the faulting process is killed (SIGKILL: the
 * OOM killer's verdict, exit status 137). Allocation is lazy, as Linux overcommits: brk and mmap
 * never fail for the limit, touching the memory does.
 * SIMPLIFICATION: the kernel's own pages for a container (page cache, pipe and socket buffers) are
 * not charged (cgroup v2 would count them as kernel memory).
 */
import type { ProcessingElement } from '../../hw/pe.js';
import type { Platform } from '../hooks.js';

const PAGE = 4096;

/** Limits and usage of user pages per container. */
export class MemoryLimits {
  private readonly limits = new Map<number, number>();
  private readonly usage = new Map<number, number>();
  /** Allocations refused for the limit (each kills a process). */
  refusals = 0;

  /** Set (or with undefined, clear) container `cid`'s limit in bytes (rounded down to pages, ≥ 1). */
  setLimit(cid: number, bytes: number | undefined): void {
    if (bytes === undefined) this.limits.delete(cid);
    else this.limits.set(cid, Math.max(1, Math.floor(bytes / PAGE)));
  }

  /** The limit of `cid` in bytes, if any. */
  limitOf(cid: number): number | undefined {
    const pages = this.limits.get(cid);
    return pages === undefined ? undefined : pages * PAGE;
  }

  /** Bytes of user memory `cid` uses now. */
  usageOf(cid: number): number {
    return (this.usage.get(cid) ?? 0) * PAGE;
  }

  /** A user page for `cid` from the platform, within its limit; undefined if over it or none left. */
  take(platform: Platform, pe: ProcessingElement, cid: number): number | undefined {
    const used = this.usage.get(cid) ?? 0;
    const limit = this.limits.get(cid);
    if (limit !== undefined && used >= limit) {
      this.refusals++;
      return undefined;
    }
    const pa = platform.userPage(pe, cid);
    if (pa !== undefined) this.usage.set(cid, used + 1);
    return pa;
  }

  /** Give a user page of `cid` back to the platform. */
  give(platform: Platform, pe: ProcessingElement, cid: number, pa: number): void {
    platform.freeUserPage(pe, cid, pa);
    const used = (this.usage.get(cid) ?? 0) - 1;
    if (used > 0) this.usage.set(cid, used);
    else this.usage.delete(cid);
  }

  /** Forget container `cid` (destroyed). */
  forget(cid: number): void {
    this.limits.delete(cid);
    this.usage.delete(cid);
  }
}
