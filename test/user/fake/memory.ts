/**
 * Fake user memory for the libc tests: a sparse paged address space with mapped ranges, and a
 * UserCpu that acts on the address space of whichever task the fake kernel is running.
 */
import type { UserCpu } from '../../../src/user/program.js';

export const PAGE = 4096;

/** An access outside every mapping (the fake kernel kills the task with SIGSEGV). */
export class FakeFault extends Error {
  readonly va: number;
  constructor(va: number) {
    super(`fault at 0x${va.toString(16)}`);
    this.va = va;
  }
}

/** A mapped range [start, end). */
interface Range {
  start: number;
  end: number;
}

/** A process address space. */
export class AddressSpace {
  private readonly pages = new Map<number, Uint8Array>();
  private ranges: Range[] = [];
  readonly brkStart = 0x1000_0000;
  brk = 0x1000_0000;
  private mmapNext = 0x2_0000_0000;

  /** Map [start, start + length) (page-rounded). */
  map(start: number, length: number): void {
    this.ranges.push({ start, end: start + Math.ceil(length / PAGE) * PAGE });
  }

  /** An anonymous mapping of `length` bytes; its address. */
  mmap(length: number): number {
    const va = this.mmapNext;
    const size = Math.ceil(length / PAGE) * PAGE;
    this.mmapNext += size + PAGE;
    this.map(va, size);
    return va;
  }

  /** Unmap [start, start + length), dropping the pages. */
  munmap(start: number, length: number): void {
    const end = start + Math.ceil(length / PAGE) * PAGE;
    const out: Range[] = [];
    for (const r of this.ranges) {
      if (r.end <= start || r.start >= end) out.push(r);
      else {
        if (r.start < start) out.push({ start: r.start, end: start });
        if (r.end > end) out.push({ start: end, end: r.end });
      }
    }
    this.ranges = out;
    for (let va = start; va < end; va += PAGE) this.pages.delete(va / PAGE);
  }

  /** Pages touched (a page-fault count for the pagefault probe). */
  get residentPages(): number {
    return this.pages.size;
  }

  private mapped(va: number): boolean {
    if (va >= this.brkStart && va < this.brk) return true;
    return this.ranges.some((r) => va >= r.start && va < r.end);
  }

  /** The page holding `va` (allocated zeroed on first touch); throws FakeFault if unmapped. */
  page(va: number): Uint8Array {
    const number = Math.floor(va / PAGE);
    let page = this.pages.get(number);
    if (page === undefined) {
      if (!this.mapped(va)) throw new FakeFault(va);
      page = new Uint8Array(PAGE);
      this.pages.set(number, page);
    }
    return page;
  }

  read(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const at = va + done;
      const offset = at % PAGE;
      const n = Math.min(PAGE - offset, length - done);
      out.set(this.page(at).subarray(offset, offset + n), done);
      done += n;
    }
    return out;
  }

  write(va: number, data: Uint8Array): void {
    for (let done = 0; done < data.length;) {
      const at = va + done;
      const offset = at % PAGE;
      const n = Math.min(PAGE - offset, data.length - done);
      this.page(at).set(data.subarray(done, done + n), offset);
      done += n;
    }
  }

  /** A copy (fork). */
  clone(): AddressSpace {
    const copy = new AddressSpace();
    for (const [n, page] of this.pages) copy.pages.set(n, page.slice());
    copy.ranges = this.ranges.map((r) => ({ ...r }));
    copy.brk = this.brk;
    copy.mmapNext = this.mmapNext;
    return copy;
  }

  /** Every byte of every resident page (for canary searches). */
  *residentBytes(): Generator<Uint8Array> {
    yield* this.pages.values();
  }
}

/** The running task's memory and clock, as the fake CPU sees them. */
export interface CpuHost {
  currentSpace(): AddressSpace;
  compute(cycles: number): void;
}

/** A UserCpu over the current task's address space. */
export class FakeCpu implements UserCpu {
  private readonly host: CpuHost;
  constructor(host: CpuHost) {
    this.host = host;
  }
  private get space(): AddressSpace {
    return this.host.currentSpace();
  }
  load8(va: number): number {
    return this.space.page(va)[va % PAGE]!;
  }
  load32(va: number): number {
    const b = this.space.read(va, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  load64(va: number): number {
    return this.load32(va) + this.load32(va + 4) * 2 ** 32;
  }
  store8(va: number, value: number): void {
    this.space.page(va)[va % PAGE] = value & 0xff;
  }
  store32(va: number, value: number): void {
    const v = value >>> 0;
    this.space.write(va, new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));
  }
  store64(va: number, value: number): void {
    const unsigned = value < 0 ? 2 ** 64 + value : value;
    this.store32(va, unsigned % 2 ** 32);
    this.store32(va + 4, Math.floor(unsigned / 2 ** 32));
  }
  readBytes(va: number, length: number): Uint8Array {
    return this.space.read(va, length);
  }
  writeBytes(va: number, data: Uint8Array): void {
    this.space.write(va, data);
  }
  fillBytes(va: number, length: number, value: number): void {
    this.space.write(va, new Uint8Array(length).fill(value));
  }
  compute(cycles: number): void {
    this.host.compute(cycles);
  }
}
