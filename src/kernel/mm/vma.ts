/**
 * Virtual memory areas of an address space: a sorted list of non-overlapping [start, end) ranges
 * with their protection and backing (anonymous, shared anonymous or a file).
 */
import { PROT } from '../uapi/flags.js';
import type { SharedSegment } from './shared-segment.js';

/** A file backing a private mapping: reads page `index` of the file (its kernel page and PA). */
export interface MappedFile {
  /** Path shown in /proc/<pid>/maps. */
  readonly path: string;
  /** Opened on a noexec mount: never mapped executable (Linux clears VM_MAYEXEC). */
  readonly noExec: boolean;
  /** The file's page at byte offset `offset` (a multiple of 4096), or undefined beyond its end. */
  page(offset: number): { kva: number; pa: number } | undefined;
  /** Keep the file alive while mapped, and let it go. */
  retain(): void;
  release(): void;
}

/** One memory area. */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** Shared memory: pages are shared with forked children, not copied (never copy on write). */
  readonly shared: boolean;
  /** The segment backing a shared area (its pages are the segment's; fileOffset is the offset in it). */
  readonly segment: SharedSegment | undefined;
  /** A file mapped privately (copy on first touch), with the file offset of `start`. */
  readonly file: MappedFile | undefined;
  fileOffset: number;
  /** "[heap]", "[stack]" or "" (anonymous) for /proc/<pid>/maps; the path for a file. */
  readonly name: string;
}

/** The sorted VMA list of an address space. */
export class VmaList {
  private readonly list: Vma[] = [];

  /** The areas, in address order. */
  get all(): readonly Vma[] {
    return this.list;
  }

  /** The area containing `va`. */
  find(va: number): Vma | undefined {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const vma = this.list[mid]!;
      if (va < vma.start) hi = mid - 1;
      else if (va >= vma.end) lo = mid + 1;
      else return vma;
    }
    return undefined;
  }

  /** True if any area intersects [start, end). */
  overlaps(start: number, end: number): boolean {
    return this.list.some((v) => v.start < end && v.end > start);
  }

  /** Insert an area (the range must be free). */
  insert(vma: Vma): void {
    vma.file?.retain();
    vma.segment?.retain();
    let i = 0;
    while (i < this.list.length && this.list[i]!.start < vma.start) i++;
    this.list.splice(i, 0, vma);
  }

  /**
   * Cut [start, end) out of every area, splitting areas that straddle its edges. Returns the removed
   * pieces (for unmapping their pages); the caller releases each piece's file when done.
   */
  remove(start: number, end: number): Vma[] {
    const removed: Vma[] = [];
    const kept: Vma[] = [];
    for (const vma of this.list) {
      if (vma.end <= start || vma.start >= end) {
        kept.push(vma);
        continue;
      }
      const cutStart = Math.max(start, vma.start);
      const cutEnd = Math.min(end, vma.end);
      // Each piece holds its own reference to the file; the original's goes.
      if (vma.start < cutStart) kept.push(piece(vma, vma.start, cutStart));
      if (cutEnd < vma.end) kept.push(piece(vma, cutEnd, vma.end));
      removed.push(piece(vma, cutStart, cutEnd));
      vma.file?.release();
      vma.segment?.dropPiece();
    }
    this.list.length = 0;
    this.list.push(...kept.sort((a, b) => a.start - b.start));
    return removed;
  }

  /** Change the protection of [start, end) (split at its edges); false if part of it is unmapped. */
  protect(start: number, end: number, prot: number): boolean {
    if (!this.covers(start, end)) return false;
    for (const vma of this.remove(start, end)) {
      this.insert({ ...vma, prot });
      vma.file?.release();
      vma.segment?.dropPiece();
    }
    return true;
  }

  /** True if [start, end) is entirely covered by areas. */
  covers(start: number, end: number): boolean {
    let at = start;
    for (const vma of this.list) {
      if (vma.end <= at) continue;
      if (vma.start > at) return false;
      at = vma.end;
      if (at >= end) return true;
    }
    return at >= end;
  }

  /** A copy for fork (files gain a reference). */
  clone(): VmaList {
    const copy = new VmaList();
    for (const vma of this.list) copy.insert({ ...vma });
    return copy;
  }

  /** Drop every area (exit, exec). */
  clear(): void {
    for (const vma of this.list) vma.file?.release();
    this.list.length = 0;
  }
}

function piece(vma: Vma, start: number, end: number): Vma {
  vma.file?.retain();
  vma.segment?.retain();
  return { ...vma, start, end, fileOffset: vma.fileOffset + (start - vma.start) };
}

/** "rwxp" / "rw-s" as /proc/<pid>/maps shows a protection. */
export function protString(prot: number, shared: boolean): string {
  return (
    (prot & PROT.READ ? 'r' : '-') +
    (prot & PROT.WRITE ? 'w' : '-') +
    (prot & PROT.EXEC ? 'x' : '-') +
    (shared ? 's' : 'p')
  );
}
