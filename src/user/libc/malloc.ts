/**
 * malloc/free/realloc/calloc over brk and anonymous mmap. The data and the block headers live in
 * user memory; the free lists are JS numbers (VAs), which a fork copies with the rest of the
 * process's libc state.
 *
 * Blocks come in power-of-two size classes from 32 bytes to 64 KiB, each with a 16-byte header
 * `[size u64][magic u32][class u32]` in front of the pointer returned. Larger requests get their
 * own mapping (munmap on free). Small blocks are carved from an arena that grows the program break;
 * when brk cannot grow (or is not supported) the arena continues in a fresh 1 MiB mapping.
 */
import { MAP, PROT, SIG } from '../../kernel/uapi/flags.js';
import type { UserCpu } from '../program.js';
import { PAGE_SIZE } from './cstring.js';
import { Cost } from './cost.js';
import type { Call } from './syscall.js';
import { isError } from './syscall.js';
import { brk, getpid, kill, mmap, munmap, schedYield } from './sys-proc.js';

/** Bytes of the header in front of every block. */
export const MALLOC_HEADER = 16;
/** Smallest and largest size class (header included). */
const MIN_CLASS_SHIFT = 5;
const MAX_CLASS_SHIFT = 16;
const CLASS_COUNT = MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1;
/** Header magics of an allocated and a free block, and the class of a mapped block. */
const MAGIC_USED = 0x5243_4855;
const MAGIC_FREE = 0x5243_4846;
const CLASS_MAPPED = 0xff;
/** How far the break moves at a time, and the size of a fallback arena mapping. */
const BRK_STEP = 128 * 1024;
const ARENA_MAP = 1024 * 1024;

function roundUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

/** The size class index for a block of `bytes` (header included), or undefined if too large. */
export function sizeClass(bytes: number): number | undefined {
  const shift = Math.max(MIN_CLASS_SHIFT, Math.ceil(Math.log2(Math.max(1, bytes))));
  return shift > MAX_CLASS_SHIFT ? undefined : shift - MIN_CLASS_SHIFT;
}

/** Block size of size class `index`. */
export function classBytes(index: number): number {
  return 1 << (index + MIN_CLASS_SHIFT);
}

/** Counters of a heap. */
export interface HeapStats {
  mallocs: number;
  frees: number;
  /** Bytes of blocks currently allocated (headers and rounding included). */
  bytesInUse: number;
  /** Arena bytes obtained from the kernel (brk and arena mappings). */
  arenaBytes: number;
}

/** The allocator of one process (shared by its threads). */
export class Heap {
  private readonly cpu: UserCpu;
  private top = 0;
  private end = 0;
  private brkEnd = 0;
  private useBrk = true;
  private growing = false;
  private readonly freeLists: number[][];
  readonly stats: HeapStats = { mallocs: 0, frees: 0, bytesInUse: 0, arenaBytes: 0 };

  private constructor(cpu: UserCpu, freeLists: number[][]) {
    this.cpu = cpu;
    this.freeLists = freeLists;
  }

  /** A heap starting at the current program break (brk(0)). */
  static *create(cpu: UserCpu): Call<Heap> {
    const heap = new Heap(
      cpu,
      Array.from({ length: CLASS_COUNT }, () => []),
    );
    const current = yield* brk(0);
    if (isError(current) || current <= 0) heap.useBrk = false;
    else heap.top = heap.end = heap.brkEnd = roundUp(current, 16);
    return heap;
  }

  /** A copy of the allocator state, for a forked child (its memory is a copy of ours). */
  clone(): Heap {
    const copy = new Heap(
      this.cpu,
      this.freeLists.map((list) => [...list]),
    );
    copy.top = this.top;
    copy.end = this.end;
    copy.brkEnd = this.brkEnd;
    copy.useBrk = this.useBrk;
    Object.assign(copy.stats, this.stats);
    return copy;
  }

  /** A block of at least `size` bytes; its VA, or 0 when memory is exhausted. */
  *malloc(size: number): Call<number> {
    this.cpu.compute(Cost.perAlloc);
    const need = roundUp(Math.max(1, size) + MALLOC_HEADER, 16);
    const index = sizeClass(need);
    if (index === undefined) return yield* this.mapLarge(need);
    const blockBytes = classBytes(index);
    let block = this.freeLists[index]!.pop();
    if (block === undefined) {
      while (this.top + blockBytes > this.end) {
        if (!(yield* this.grow(blockBytes))) return 0;
      }
      block = this.top;
      this.top += blockBytes;
    }
    this.writeHeader(block, blockBytes, MAGIC_USED, index);
    this.stats.mallocs++;
    this.stats.bytesInUse += blockBytes;
    return block + MALLOC_HEADER;
  }

  /** A zeroed block of `count * size` bytes (0 on exhaustion). */
  *calloc(count: number, size: number): Call<number> {
    const bytes = count * size;
    const ptr = yield* this.malloc(bytes);
    if (ptr !== 0 && bytes > 0) {
      this.cpu.fillBytes(ptr, bytes, 0);
      this.cpu.compute(bytes * Cost.perCopiedByte);
    }
    return ptr;
  }

  /**
   * Free a block from malloc (0 is ignored). A pointer whose header is not that of an allocated
   * block (double free, corruption) aborts the process with SIGABRT, as glibc does.
   */
  *free(ptr: number): Call<void> {
    if (ptr === 0) return;
    this.cpu.compute(Cost.perAlloc);
    const block = ptr - MALLOC_HEADER;
    const size = this.cpu.load64(block);
    const magic = this.cpu.load32(block + 8);
    const index = this.cpu.load32(block + 12);
    if (
      magic !== MAGIC_USED ||
      (index !== CLASS_MAPPED && (index >= CLASS_COUNT || size !== classBytes(index)))
    ) {
      yield* this.abort();
      return;
    }
    this.stats.frees++;
    this.stats.bytesInUse -= size;
    if (index === CLASS_MAPPED) {
      yield* munmap(block, size);
      return;
    }
    this.cpu.store32(block + 8, MAGIC_FREE);
    this.freeLists[index]!.push(block);
  }

  /** Resize a block, keeping its contents (realloc(0, n) = malloc(n); size 0 frees). */
  *realloc(ptr: number, size: number): Call<number> {
    if (ptr === 0) return yield* this.malloc(size);
    if (size === 0) {
      yield* this.free(ptr);
      return 0;
    }
    const old = this.usableSize(ptr);
    if (size <= old) return ptr;
    const fresh = yield* this.malloc(size);
    if (fresh === 0) return 0;
    copyUserMemory(this.cpu, fresh, ptr, old);
    yield* this.free(ptr);
    return fresh;
  }

  /** Usable bytes of an allocated block. */
  usableSize(ptr: number): number {
    return this.cpu.load64(ptr - MALLOC_HEADER) - MALLOC_HEADER;
  }

  private writeHeader(block: number, size: number, magic: number, index: number): void {
    this.cpu.store64(block, size);
    this.cpu.store32(block + 8, magic);
    this.cpu.store32(block + 12, index);
  }

  private *mapLarge(need: number): Call<number> {
    const length = roundUp(need, PAGE_SIZE);
    const va = yield* mmap(0, length, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    if (isError(va)) return 0;
    this.writeHeader(va, length, MAGIC_USED, CLASS_MAPPED);
    this.stats.mallocs++;
    this.stats.bytesInUse += length;
    return va + MALLOC_HEADER;
  }

  /** Make room for `bytes` more in the arena; false when the kernel gives no more memory. */
  private *grow(bytes: number): Call<boolean> {
    // Threads share the heap: one grows it at a time, the others wait for it (no futex here).
    while (this.growing) yield* schedYield();
    if (this.top + bytes <= this.end) return true;
    this.growing = true;
    try {
      if (this.useBrk && this.end === this.brkEnd) {
        const target = roundUp(this.end + Math.max(bytes, BRK_STEP), PAGE_SIZE);
        const result = yield* brk(target);
        if (!isError(result) && result >= target) {
          this.stats.arenaBytes += target - this.end;
          this.end = this.brkEnd = target;
          return true;
        }
        this.useBrk = false;
      }
      const length = roundUp(Math.max(bytes, ARENA_MAP), PAGE_SIZE);
      const va = yield* mmap(0, length, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
      if (isError(va)) return false;
      this.stats.arenaBytes += length;
      this.top = va;
      this.end = va + length;
      return true;
    } finally {
      this.growing = false;
    }
  }

  private *abort(): Call<void> {
    const pid = yield* getpid();
    yield* kill(pid, SIG.ABRT);
  }
}

/** Copy `length` bytes of user memory from `src` to `dst` (through the CPU, in 64 KiB pieces). */
export function copyUserMemory(cpu: UserCpu, dst: number, src: number, length: number): void {
  const CHUNK = 64 * 1024;
  for (let done = 0; done < length; done += CHUNK) {
    const n = Math.min(CHUNK, length - done);
    cpu.writeBytes(dst + done, cpu.readBytes(src + done, n));
  }
  cpu.compute(length * Cost.perCopiedByte);
}
